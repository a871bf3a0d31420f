// Several caches of one resource read as one: a namespaced install keeps a list+watch per watched namespace, and
// the controller still sees a single ObjectCache. Keys (namespace/name) never collide between the parts, since
// each part holds one namespace.
import type { ObjectCache } from '../controller/ports.js';
import type { KubeObject } from './cache.js';

export class MergedCache<T extends KubeObject> implements ObjectCache<T> {
  constructor(private readonly parts: ObjectCache<T>[]) {}

  /** Resolves once every part has listed. */
  async start(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.start()));
  }

  stop(): void {
    for (const p of this.parts) p.stop();
  }

  get(key: string): T | undefined {
    for (const p of this.parts) {
      const found = p.get(key);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  list(): T[] {
    return this.parts.flatMap((p) => p.list());
  }

  byIndex(value: string): T[] {
    return this.parts.flatMap((p) => p.byIndex(value));
  }

  get size(): number {
    return this.parts.reduce((sum, p) => sum + p.size, 0);
  }

  /** The quietest part: a watch that stopped in one namespace must show even while the others are busy. */
  get quietForMs(): number {
    return Math.max(0, ...this.parts.map((p) => p.quietForMs));
  }
}

// Where a heap snapshot's memory is: self size summed by node type and constructor (or string, code, array ...).
//   node hack/bench/heap-summary.mjs file.heapsnapshot [top]
// The operator writes one on SIGUSR2 when started with --heapsnapshot-signal=SIGUSR2 (hack/bench runs it so).
import { readFileSync } from 'node:fs';

export function summarizeHeap(snapshot, top = 15) {
  const { node_fields: fields, node_types: types } = snapshot.snapshot.meta;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const typeNames = types[typeAt];
  const { nodes, strings } = snapshot;
  const bySort = new Map();
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = typeNames[nodes[i + typeAt]];
    const size = nodes[i + sizeAt];
    total += size;
    // Objects by constructor; strings, code, arrays and the rest by their type alone.
    const key = type === 'object' || type === 'native' ? `${type} ${strings[nodes[i + nameAt]]}` : type;
    const entry = bySort.get(key) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += size;
    bySort.set(key, entry);
  }
  const mib = (b) => Math.round((b / 1048576) * 10) / 10;
  const rows = [...bySort.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .slice(0, top)
    .map(([what, e]) => ({
      what,
      count: e.count,
      MiB: mib(e.bytes),
      share: `${Math.round((e.bytes / total) * 100)}%`,
    }));
  return { totalMiB: mib(total), nodes: nodes.length / width, top: rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node hack/bench/heap-summary.mjs file.heapsnapshot [top]');
    process.exit(2);
  }
  console.log(JSON.stringify(summarizeHeap(JSON.parse(readFileSync(file, 'utf8')), Number(top ?? 15)), null, 2));
}

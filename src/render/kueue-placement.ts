// Where an admitted job's pods go: for each pod set, the node labels and tolerations of the ResourceFlavors Kueue
// assigned it, merged with the pod set updates of the admission checks (as Kueue's podset.FromAssignment and Merge
// do for its own integrations). A key set twice to different values is a conflict, never silently overridden.
// Kueue's topologyAssignment (topology-aware scheduling) is not applied. Pure.
import type { V1Pod, V1Toleration } from '@kubernetes/client-node';
import type { ResourceFlavor, Workload } from '../api/kueue.js';

export interface PodSetPlacement {
  nodeSelector: Record<string, string>;
  tolerations: V1Toleration[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** Per pod set name (launcher, worker). */
export type Placements = Record<string, PodSetPlacement>;

export type PlacementResult = { placements: Placements } | { missingFlavor: string } | { conflict: string };

const emptyPlacement = (): PodSetPlacement => ({ nodeSelector: {}, tolerations: [], labels: {}, annotations: {} });

/** Copies from into into; a key already set to another value is reported as "key: a vs b". */
function mergeMap(into: Record<string, string>, from: Record<string, string> | undefined): string | undefined {
  for (const [key, value] of Object.entries(from ?? {})) {
    if (into[key] !== undefined && into[key] !== value) return `${key}: ${into[key]} vs ${value}`;
    into[key] = value;
  }
  return undefined;
}

const sameToleration = (a: V1Toleration, b: V1Toleration): boolean =>
  a.key === b.key &&
  a.operator === b.operator &&
  a.value === b.value &&
  a.effect === b.effect &&
  a.tolerationSeconds === b.tolerationSeconds;

function addTolerations(into: V1Toleration[], from: V1Toleration[] | undefined): void {
  for (const t of from ?? []) if (!into.some((x) => sameToleration(x, t))) into.push(t);
}

/** The placement of every pod set of an admitted Workload, from its admission and the flavors it names. */
export function admittedPlacement(workload: Workload, flavors: ReadonlyMap<string, ResourceFlavor>): PlacementResult {
  const placements: Placements = {};
  for (const podSet of workload.spec.podSets) {
    const placement = emptyPlacement();
    // The pod set's own selector is part of the merge, so an update that contradicts it is caught too.
    const own = { ...podSet.template.spec?.nodeSelector };
    const assignment = workload.status?.admission?.podSetAssignments.find((a) => a.name === podSet.name);
    for (const flavorName of new Set(Object.values(assignment?.flavors ?? {}))) {
      const flavor = flavors.get(flavorName);
      if (!flavor) return { missingFlavor: flavorName };
      const clash = mergeMap(own, flavor.spec?.nodeLabels) ?? mergeMap(placement.nodeSelector, flavor.spec?.nodeLabels);
      if (clash) return { conflict: `pod set ${podSet.name}: nodeSelector of flavor ${flavorName}: ${clash}` };
      addTolerations(placement.tolerations, flavor.spec?.tolerations);
    }
    for (const check of workload.status?.admissionChecks ?? []) {
      for (const update of (check.podSetUpdates ?? []).filter((u) => u.name === podSet.name)) {
        const clash =
          mergeMap(own, update.nodeSelector) ??
          mergeMap(placement.nodeSelector, update.nodeSelector) ??
          mergeMap(placement.labels, update.labels) ??
          mergeMap(placement.annotations, update.annotations);
        if (clash) return { conflict: `pod set ${podSet.name}: update of admission check ${check.name}: ${clash}` };
        addTolerations(placement.tolerations, update.tolerations);
      }
    }
    placements[podSet.name] = placement;
  }
  return { placements };
}

/** The pod with its pod set's placement added (a copy; the rendered pod is not changed). */
export function withPlacement(pod: V1Pod, placement: PodSetPlacement | undefined): V1Pod {
  if (!placement) return pod;
  const out = structuredClone(pod);
  const meta = (out.metadata ??= {});
  const spec = out.spec!;
  if (Object.keys(placement.labels).length > 0) meta.labels = { ...placement.labels, ...meta.labels };
  if (Object.keys(placement.annotations).length > 0) {
    meta.annotations = { ...placement.annotations, ...meta.annotations };
  }
  if (Object.keys(placement.nodeSelector).length > 0) {
    spec.nodeSelector = { ...spec.nodeSelector, ...placement.nodeSelector };
  }
  if (placement.tolerations.length > 0) {
    const tolerations = [...(spec.tolerations ?? [])];
    addTolerations(tolerations, placement.tolerations);
    spec.tolerations = tolerations;
  }
  return out;
}

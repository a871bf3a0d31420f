// Defaults of an HPCJob: the CRD's schema defaults plus the one that depends on other fields (slotsPerWorker).
// The controller applies them to a copy of what it read, so a job written by an older CRD behaves the same.
import type { HPCJob } from './types.js';

/** A defaulted copy of the job; the input is left untouched. */
export function withDefaults(job: HPCJob): HPCJob {
  const copy = structuredClone(job);
  const spec = (copy.spec ??= {} as HPCJob['spec']);
  const gpus = spec.resources?.gpus ?? 0;
  // One rank per GPU is the usual layout for GPU jobs; CPU jobs state their slots or get one.
  spec.slotsPerWorker ??= gpus > 0 ? gpus : 1;
  spec.mpiImplementation ??= 'OpenMPI';
  spec.network = { ...spec.network, mode: spec.network?.mode ?? 'pod' };
  spec.runPolicy = {
    ...spec.runPolicy,
    backoffLimit: spec.runPolicy?.backoffLimit ?? 0,
    cleanPodPolicy: spec.runPolicy?.cleanPodPolicy ?? 'Running',
    suspend: spec.runPolicy?.suspend ?? false,
  };
  return copy;
}

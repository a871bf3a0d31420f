// The hostfile mpirun reads: one line per host with its slot count, in the syntax of the job's MPI.
import type { MPIImplementation } from '../api/types.js';

export interface HostfileHost {
  name: string;
  slots: number;
}

/** Open MPI: `host slots=N`; Hydra (MPICH and Intel MPI): `host:N`. Ranks fill hosts in this order. */
export function renderHostfile(impl: MPIImplementation, hosts: HostfileHost[]): string {
  const line =
    impl === 'OpenMPI'
      ? (h: HostfileHost) => `${h.name} slots=${h.slots}`
      : (h: HostfileHost) => `${h.name}:${h.slots}`;
  return hosts.map((h) => `${line(h)}\n`).join('');
}

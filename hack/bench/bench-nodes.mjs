// The benchmarks' KWOK nodes, shared by hack/bench/*.mjs.

/** Roomy fake nodes so pod counts, not node capacity, are what is measured. */
export async function ensureBenchNodes(core, count) {
  for (let i = 0; i < count; i++) {
    const name = `kwok-bench-${i}`;
    const resources = { cpu: '1k', memory: '4Ti', pods: '1k' };
    await core
      .createNode({
        body: {
          metadata: {
            name,
            labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'topology.hpcjob.dev/rack': `bench-${i % 2}` },
            annotations: { 'kwok.x-k8s.io/node': 'fake' },
          },
          status: { capacity: resources, allocatable: resources },
        },
      })
      .catch((err) => {
        if (err.code !== 409) throw err;
      });
  }
}

import fc from 'fast-check';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { withDefaults } from '../../../src/api/defaults.js';
import type { HPCJob } from '../../../src/api/types.js';
import { renderLauncherPod, renderWorkerPod } from '../../../src/render/pods.js';
import { arbJob, makeJob, testConfig } from '../api/fixtures.js';

const SSH_PORT = 2222;
const worker = (job: HPCJob, i = 0) => renderWorkerPod(withDefaults(job), testConfig, i, SSH_PORT);
const launcher = (job: HPCJob, attempt = 1) => renderLauncherPod(withDefaults(job), testConfig, attempt, SSH_PORT);
const mainOf = (pod: V1Pod, role: string): V1Container =>
  pod.spec!.containers.find((c) => c.name === role || c.command?.[1]?.endsWith(`/${role}.sh`))!;
const envOf = (c: V1Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));

describe('renderWorkerPod', () => {
  const pod = worker(makeJob({ resources: { cpu: 4, memory: '8Gi' } }), 1);
  const main = mainOf(pod, 'worker');

  it('names, labels and owns the pod', () => {
    expect(pod.metadata).toMatchObject({
      name: 'cfd-worker-1',
      namespace: 'team-a',
      labels: { 'hpcjob.dev/job-name': 'cfd', 'hpcjob.dev/role': 'worker', 'hpcjob.dev/worker-index': '1' },
      ownerReferences: [{ kind: 'HPCJob', name: 'cfd', controller: true, blockOwnerDeletion: true }],
    });
    expect(pod.spec).toMatchObject({ hostname: 'cfd-worker-1', subdomain: 'hpcjob-hosts', restartPolicy: 'Never' });
  });

  it('runs sshd from the entrypoint and is ready when the port answers', () => {
    expect(main.image).toBe('registry.example/openfoam:2.3.0');
    expect(main.command).toEqual(['/bin/sh', '/etc/hpcjob/config/worker.sh']);
    expect(main.ports).toEqual([{ name: 'ssh', containerPort: SSH_PORT, protocol: 'TCP' }]);
    expect(main.readinessProbe?.tcpSocket?.port).toBe(SSH_PORT);
  });

  it('sets requests equal to limits', () => {
    expect(main.resources).toEqual({ requests: { cpu: '4', memory: '8Gi' }, limits: { cpu: '4', memory: '8Gi' } });
  });

  it('gives the entrypoint and Open MPI their environment', () => {
    expect(envOf(main)).toMatchObject({
      HPCJOB_SSH_PORT: '2222',
      HPCJOB_CONFIG_DIR: '/etc/hpcjob/config',
      HPCJOB_SSH_DIR: '/etc/hpcjob/ssh',
      HPCJOB_MPI_IMPLEMENTATION: 'OpenMPI',
      OMPI_MCA_orte_default_hostfile: '/run/hpcjob/hostfile',
      PRTE_MCA_prte_default_hostfile: '/run/hpcjob/hostfile',
      OMPI_MCA_plm_rsh_args: '-F /run/hpcjob/ssh_config',
      HPCJOB_JOB_NAME: 'cfd',
      HPCJOB_WORKERS: '2',
      HPCJOB_SLOTS_PER_WORKER: '1',
      HPCJOB_HOST_DOMAIN: 'hpcjob-hosts',
      HPCJOB_LAUNCHER_RUNS_RANKS: 'false',
    });
  });

  it('mounts the key group-readable (0440) with a group of the pod (the image may run as any user), the config and /dev/shm', () => {
    const volumes = Object.fromEntries((pod.spec!.volumes ?? []).map((v) => [v.name, v]));
    expect(volumes['hpcjob-ssh']?.secret).toEqual({ secretName: 'cfd-ssh', defaultMode: 0o440 });
    expect(pod.spec?.securityContext).toEqual({ fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' });
    expect(volumes['hpcjob-config']?.configMap?.name).toMatch(/^hpcjob-scripts-/);
    expect(volumes['hpcjob-shm']?.emptyDir?.medium).toBe('Memory');
    expect(main.volumeMounts?.map((m) => m.mountPath)).toEqual([
      '/etc/hpcjob/ssh',
      '/etc/hpcjob/config',
      '/run/hpcjob',
      '/dev/shm',
    ]);
  });
});

describe('renderLauncherPod', () => {
  it('runs the command through the entrypoint and records the attempt', () => {
    const pod = launcher(makeJob({ resources: { gpus: 8 } }), 3);
    const main = mainOf(pod, 'launcher');
    expect(pod.metadata?.name).toBe('cfd-launcher');
    expect(pod.metadata?.annotations).toEqual({ 'hpcjob.dev/attempt': '3', 'hpcjob.dev/main-container': 'launcher' });
    expect(main.command).toEqual(['/bin/sh', '/etc/hpcjob/config/launcher.sh', 'mpirun', 'simpleFoam', '-parallel']);
    expect(main.resources).toEqual({});
    expect(main.readinessProbe).toBeUndefined();
    expect(pod.spec?.restartPolicy).toBe('Never');
  });

  it('gets the GPUs when it runs ranks', () => {
    const main = mainOf(launcher(makeJob({ resources: { gpus: 2 }, launcher: { runsRanks: true } })), 'launcher');
    expect(main.resources?.limits).toEqual({ 'nvidia.com/gpu': '2' });
  });

  it('waits 300 s plus one per 50 workers for their sshd, unless its template says otherwise', () => {
    expect(envOf(mainOf(launcher(makeJob({ workers: 2000 })), 'launcher')).HPCJOB_WAIT_TIMEOUT_SECONDS).toBe('340');
    const env = [{ name: 'HPCJOB_WAIT_TIMEOUT_SECONDS', value: '1200' }];
    const template = { spec: { containers: [{ name: 'launcher', env }] } };
    const job = makeJob({ workers: 2000, launcher: { creationPolicy: 'AtStartup', template } });
    expect(envOf(mainOf(launcher(job), 'launcher')).HPCJOB_WAIT_TIMEOUT_SECONDS).toBe('1200');
  });

  it('forwards the job environment and the listed names to remote ranks', () => {
    const job = makeJob({ env: [{ name: 'FOAM_RUN', value: '/scratch' }], forwardEnv: ['LD_LIBRARY_PATH'] });
    expect(envOf(mainOf(launcher(job), 'launcher')).HPCJOB_FORWARD_ENV).toBe('LD_LIBRARY_PATH,FOAM_RUN');
  });
});

describe('templates', () => {
  const template = {
    metadata: { labels: { team: 'cfd', 'hpcjob.dev/role': 'spoofed' }, annotations: { note: 'x' } },
    spec: {
      nodeSelector: { pool: 'hpc' },
      restartPolicy: 'Always',
      hostNetwork: true,
      securityContext: { runAsUser: 1000 },
      containers: [
        { name: 'exporter', image: 'exporter:1' },
        {
          name: 'worker',
          image: 'ignored',
          args: ['ignored'],
          env: [
            { name: 'NCCL_DEBUG', value: 'INFO' },
            { name: 'HPCJOB_SSH_PORT', value: '22' },
          ],
          resources: { requests: { 'ephemeral-storage': '10Gi' } },
        },
      ],
    },
  };
  const pod = worker(makeJob({ worker: { template } as never, resources: { gpus: 1 } }));
  const main = mainOf(pod, 'worker');

  it('keeps what the operator does not own', () => {
    expect(pod.metadata?.labels?.team).toBe('cfd');
    expect(pod.metadata?.annotations).toEqual({
      note: 'x',
      'hpcjob.dev/main-container': 'worker',
      'hpcjob.dev/attempt': '1',
    });
    expect(pod.spec?.nodeSelector).toEqual({ pool: 'hpc' });
    expect(pod.spec?.containers[0]).toEqual({ name: 'exporter', image: 'exporter:1' });
    expect(main.resources?.requests).toEqual({ 'ephemeral-storage': '10Gi', 'nvidia.com/gpu': '1' });
    expect(envOf(main).NCCL_DEBUG).toBe('INFO');
  });

  it('sets the operator-owned fields over it', () => {
    expect(pod.metadata?.labels?.['hpcjob.dev/role']).toBe('worker');
    expect(pod.spec?.restartPolicy).toBe('Never');
    expect(pod.spec?.hostNetwork).toBeUndefined();
    expect(main.image).toBe('registry.example/openfoam:2.3.0');
    expect(main.args).toBeUndefined();
    expect(envOf(main).HPCJOB_SSH_PORT).toBe('2222');
  });

  it('lets a non-root user read the key through its group', () => {
    expect(pod.spec?.securityContext).toEqual({
      runAsUser: 1000,
      fsGroup: 1000,
      fsGroupChangePolicy: 'OnRootMismatch',
    });
    expect(pod.spec?.volumes?.find((v) => v.name === 'hpcjob-ssh')?.secret?.defaultMode).toBe(0o440);
  });
});

describe('network modes', () => {
  it('host: host network, cluster DNS, the port as a hostPort', () => {
    const pod = worker(makeJob({ network: { mode: 'host' } }));
    expect(pod.spec).toMatchObject({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' });
    expect(mainOf(pod, 'worker').ports).toEqual([
      { name: 'ssh', containerPort: SSH_PORT, hostPort: SSH_PORT, protocol: 'TCP' },
    ]);
    expect(launcher(makeJob({ network: { mode: 'host' } })).spec?.hostNetwork).toBeUndefined();
  });

  it('sriov: annotation, one VF per network, IPC_LOCK', () => {
    const pod = worker(makeJob({ network: { mode: 'sriov', networks: ['ib-a'] } }));
    const main = mainOf(pod, 'worker');
    expect(JSON.parse(pod.metadata?.annotations?.['k8s.v1.cni.cncf.io/networks'] ?? '[]')).toEqual([
      { name: 'ib-a', namespace: 'hpc', interface: 'net1' },
    ]);
    expect(main.resources?.limits).toEqual({ 'nvidia.com/hostdev': '1' });
    expect(main.securityContext?.capabilities?.add).toEqual(['IPC_LOCK']);
    expect(envOf(main).NCCL_SOCKET_IFNAME).toBe('=net1');
    expect(
      launcher(makeJob({ network: { mode: 'sriov', networks: ['ib-a'] } })).metadata?.annotations,
    ).not.toHaveProperty(['k8s.v1.cni.cncf.io/networks']);
  });
});

describe('every combination renders valid pods', () => {
  const EXTENDED = /\//;

  function check(job: HPCJob, pod: V1Pod, role: 'worker' | 'launcher') {
    const spec = withDefaults(job).spec;
    const ranks = role === 'worker' || spec.launcher?.runsRanks === true;
    expect(pod.metadata!.name!.length).toBeLessThanOrEqual(63);
    expect(pod.spec!.restartPolicy).toBe('Never');
    expect(pod.metadata!.ownerReferences).toHaveLength(1);
    expect(pod.spec!.hostNetwork === true).toBe(spec.network?.mode === 'host' && ranks);
    expect('k8s.v1.cni.cncf.io/networks' in (pod.metadata!.annotations ?? {})).toBe(
      spec.network?.mode === 'sriov' && ranks,
    );
    const main = mainOf(pod, role);
    for (const c of pod.spec!.containers) {
      for (const [name, value] of Object.entries(c.resources?.requests ?? {})) {
        if (EXTENDED.test(name)) expect(c.resources?.limits?.[name]).toBe(value);
      }
    }
    const gpus = main.resources?.limits?.['nvidia.com/gpu'];
    expect(gpus).toBe(ranks && (spec.resources?.gpus ?? 0) > 0 ? String(spec.resources?.gpus) : undefined);
    const names = (main.env ?? []).map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    const volumes = new Set((pod.spec!.volumes ?? []).map((v) => v.name));
    expect(volumes.size).toBe(pod.spec!.volumes!.length);
    for (const m of main.volumeMounts ?? []) expect(volumes.has(m.name)).toBe(true);
    const ipcLock = main.securityContext?.capabilities?.add?.includes('IPC_LOCK') ?? false;
    expect(ipcLock).toBe(ranks && ((spec.resources?.rdmaDevices ?? 0) > 0 || spec.network?.mode === 'sriov'));
    const antiAffinity = pod.spec!.affinity?.podAntiAffinity !== undefined;
    expect(antiAffinity).toBe(ranks && spec.placement?.oneWorkerPerNode === true);
    expect(pod.spec!.containers.filter((c) => c.image === 'registry.example/exporter:1')).toHaveLength(
      spec.worker?.template?.spec?.containers.length === 2 ? 1 : 0,
    );
  }

  it('workers and launchers', () => {
    fc.assert(
      fc.property(arbJob, fc.integer({ min: 1, max: 5 }), (job, attempt) => {
        const defaulted = withDefaults(job);
        for (let i = 0; i < defaulted.spec.workers; i++) {
          check(job, renderWorkerPod(defaulted, testConfig, i, SSH_PORT), 'worker');
        }
        check(job, renderLauncherPod(defaulted, testConfig, attempt, SSH_PORT), 'launcher');
      }),
    );
  });
});

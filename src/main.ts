// The operator process: configuration, logger, metrics and health endpoints, then the controller.
//   node dist/main.js [--kubeconfig PATH] [--config PATH] [--metrics-port N] [--namespaces a,b]
//                     [--webhook-cert-dir DIR --webhook-port N]
//                     [--leader-elect [--leader-election-namespace NS] [--leader-election-id NAME]
//                      [--leader-election-lease-duration 15s] [--leader-election-renew-deadline 10s]
//                      [--leader-election-retry-period 2s]]
// Environment equivalents: KUBECONFIG, HPCJOB_CONFIG, HPCJOB_METRICS_PORT, HPCJOB_NAMESPACES,
// HPCJOB_WEBHOOK_CERT_DIR, HPCJOB_WEBHOOK_PORT, LOG_LEVEL, HPCJOB_LEADER_ELECT, POD_NAMESPACE,
// HPCJOB_LEADER_ELECTION_ID, HPCJOB_LEASE_DURATION, HPCJOB_RENEW_DEADLINE, HPCJOB_RETRY_PERIOD; POD_NAME names
// this replica in the Lease.
// The admission webhook is served only when a certificate directory is given.
// --namespaces: watch and act in these namespaces only (the chart's watchNamespaces); empty or absent: the cluster.
// --leader-elect: of the replicas sharing the Lease NS/NAME, only the one holding it runs the controller
// (src/kube/leader-election.ts); off by default.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadClusterConfig } from './config/cluster-config.js';
import { leaderElectionSettings, type LeaderElectionSettings } from './config/leader-election.js';
import { validateJob } from './api/validate.js';
import { Controller } from './controller/controller.js';
import { serveHttp } from './health.js';
import { connect, KubeApi } from './kube/api.js';
import type { RestClient } from './kube/rest.js';
import { kubeCaches, parseNamespaces } from './kube/kube-caches.js';
import { electionIdentity, kubeLeaseStore, LeaderElector } from './kube/leader-election.js';
import { operatorLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { serveWebhook } from './webhook/server.js';
import { podGroupResource, type GangMechanism } from './render/pod-groups.js';

const logger = operatorLogger(process.env.LOG_LEVEL ?? 'info');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      config: { type: 'string' },
      'metrics-port': { type: 'string' },
      'webhook-port': { type: 'string' },
      'webhook-cert-dir': { type: 'string' },
      namespaces: { type: 'string' },
      'leader-elect': { type: 'boolean' },
      'leader-election-namespace': { type: 'string' },
      'leader-election-id': { type: 'string' },
      'leader-election-lease-duration': { type: 'string' },
      'leader-election-renew-deadline': { type: 'string' },
      'leader-election-retry-period': { type: 'string' },
    },
  });
  const configPath = values.config ?? process.env.HPCJOB_CONFIG;
  // A bad configuration stops the operator here, with the offending key in the message.
  const config = loadClusterConfig(configPath);
  // Everything read from disk at run time is read now: a missing file stops the operator here, naming it, rather
  // than failing every reconcile behind a green /readyz.
  validateJob({});
  const election = leaderElectionSettings(values, process.env);
  const namespaces = parseNamespaces(values.namespaces ?? process.env.HPCJOB_NAMESPACES);
  const client = connect(values.kubeconfig ?? process.env.KUBECONFIG);
  const metrics = new Metrics();
  const api = new KubeApi(client, (verb, kind) => metrics.apiWrites.inc({ verb, kind }));
  let started = false;
  const onFatal = (err: unknown) => {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'a watch gave up; exiting to be restarted');
    process.exit(2);
  };
  const caches = kubeCaches(api, logger, onFatal, namespaces);
  const gangApis = await discoverGangApis(api);
  // Kueue is asked about once: its CRDs installed later take an operator restart (its log says which it found).
  const kueue = await api.kueue.servesWorkloads();
  const controller = new Controller({ api, caches, config, logger, metrics, gangApis, kueue });
  const port = Number(values['metrics-port'] ?? process.env.HPCJOB_METRICS_PORT ?? 8080);
  // Without leader election this process is the only one and leads from the start.
  const elector = election.enabled
    ? leaderElector(election, client, metrics, controller, () => (started = true))
    : undefined;
  const state = () => ({
    leaderElection: election.enabled,
    leading: elector?.leading ?? true,
    controllerStarted: started,
  });
  // The probes and admission come up at once on every replica, the standby included: admission needs no cache and
  // no lease (it answers from the request and the site policy), and must not go down with a failover.
  const server = serveHttp(port, process.env.HPCJOB_METRICS_ADDRESS ?? '0.0.0.0', metrics, state);
  const certDir = values['webhook-cert-dir'] ?? process.env.HPCJOB_WEBHOOK_CERT_DIR;
  const webhookPort = Number(values['webhook-port'] ?? process.env.HPCJOB_WEBHOOK_PORT ?? 9443);
  const webhook = certDir
    ? serveWebhook({
        port: webhookPort,
        address: process.env.HPCJOB_WEBHOOK_ADDRESS ?? '0.0.0.0',
        certDir,
        config,
        logger: logger.child({ component: 'webhook' }),
      })
    : undefined;
  // Passes under way finish before the process exits: one cut short between its writes would be redone by the
  // next operator, but a drained one costs it nothing. The drain is bounded below Kubernetes' default 30 s grace.
  // Then a leader hands its lease back, so that the standby takes over at its next read rather than after the
  // lease duration; it keeps renewing until then, as the controller still acts while it drains.
  let shuttingDown = false;
  const shutdown = (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down; letting passes under way finish');
    server.close();
    webhook?.close();
    void controller
      .stop(20_000)
      .then(() => elector?.release())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  logger.info(
    {
      server: client.access.server,
      context: client.access.context,
      config: configPath ?? '(defaults)',
      metricsPort: port,
      webhookPort: webhook ? webhookPort : 'off',
      namespaces: namespaces.length > 0 ? namespaces : '(all)',
      leaderElection: election.enabled
        ? { lease: `${election.namespace}/${election.name}`, ...election.timings }
        : 'off',
    },
    'starting',
  );
  if (elector) {
    metrics.leader.set(0);
    elector.start();
    return;
  }
  metrics.leader.set(1);
  await controller.start();
  started = true;
}

/** Which gang schedulers' PodGroups the cluster serves, said once in the log: without any, pods are placed one by one. */
async function discoverGangApis(api: KubeApi): Promise<Set<GangMechanism>> {
  const served = await api.servedPodGroupApis();
  const names = [...served].map((m) => `${m} (${podGroupResource(m)})`);
  if (served.has('Native')) logger.info({ served: names }, 'gang scheduling: PodGroup APIs served');
  else {
    logger.info(
      { served: names },
      'gang scheduling: the Workload API (scheduling.k8s.io/v1alpha2 podgroups) is not served; ' +
        'jobs that do not name another gang scheduler are scheduled pod by pod',
    );
  }
  return served;
}

/**
 * The elector of this replica: on taking the lease it starts the controller (caches, then workers). Until then the
 * process sends the API nothing but its lease requests.
 */
function leaderElector(
  election: LeaderElectionSettings,
  client: RestClient,
  metrics: Metrics,
  controller: Controller,
  onControllerStarted: () => void,
): LeaderElector {
  return new LeaderElector({
    identity: electionIdentity(process.env, os.hostname(), process.pid),
    store: kubeLeaseStore(client, election.namespace, election.name, (verb, result) =>
      metrics.leaseRequests.inc({ verb, result }),
    ),
    timings: election.timings,
    logger: logger.child({ lease: `${election.namespace}/${election.name}` }),
    onStartedLeading: () => {
      metrics.leader.set(1);
      controller.start().then(onControllerStarted, (err: unknown) => {
        logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'the controller failed to start');
        process.exit(1);
      });
    },
    // The process exits rather than stepping back to standby: its caches, queue, expectations and passes in flight
    // all belong to a term that has ended, and a pass still running could write after another replica has taken
    // over. Exiting stops every one of them at once; Kubernetes restarts the container, which starts as a clean
    // standby (client-go's controllers do the same).
    onStoppedLeading: (reason) => {
      metrics.leader.set(0);
      logger.fatal({ reason }, 'lost leadership; exiting to be restarted as a standby');
      process.exit(3);
    },
  });
}

process.on('unhandledRejection', (err) => {
  logger.error({ err: err instanceof Error ? err.message : String(err) }, 'unhandled rejection');
});

main().catch((err: unknown) => {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'operator failed to start');
  process.exit(1);
});

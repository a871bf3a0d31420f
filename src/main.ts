// The operator process: configuration, logger, metrics and health endpoints, then the controller.
//   node dist/main.js [--kubeconfig PATH] [--config PATH] [--metrics-port N] [--namespaces a,b]
//                     [--webhook-cert-dir DIR --webhook-port N]
// Environment equivalents: KUBECONFIG, HPCJOB_CONFIG, HPCJOB_METRICS_PORT, HPCJOB_NAMESPACES,
// HPCJOB_WEBHOOK_CERT_DIR, HPCJOB_WEBHOOK_PORT, LOG_LEVEL.
// The admission webhook is served only when a certificate directory is given.
// --namespaces: watch and act in these namespaces only (the chart's watchNamespaces); empty or absent: the cluster.
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import { loadClusterConfig } from './config/cluster-config.js';
import { validateJob } from './api/validate.js';
import { Controller } from './controller/controller.js';
import { KubeApi, loadKubeConfig } from './kube/api.js';
import { kubeCaches, parseNamespaces } from './kube/kube-caches.js';
import { operatorLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { serveWebhook } from './webhook/server.js';
import { podGroupResource, type GangMechanism } from './render/pod-groups.js';

const logger = operatorLogger(process.env.LOG_LEVEL ?? 'info');

function serveHttp(port: number, metrics: Metrics, healthy: () => boolean): Server {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    if (req.url === '/healthz' || req.url === '/readyz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503);
      res.end(ok ? 'ok' : 'not ready');
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(port, process.env.HPCJOB_METRICS_ADDRESS ?? '0.0.0.0');
  return server;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      config: { type: 'string' },
      'metrics-port': { type: 'string' },
      'webhook-port': { type: 'string' },
      'webhook-cert-dir': { type: 'string' },
      namespaces: { type: 'string' },
    },
  });
  const configPath = values.config ?? process.env.HPCJOB_CONFIG;
  // A bad configuration stops the operator here, with the offending key in the message.
  const config = loadClusterConfig(configPath);
  // Everything read from disk at run time is read now: a missing file stops the operator here, naming it, rather
  // than failing every reconcile behind a green /readyz.
  validateJob({});
  const namespaces = parseNamespaces(values.namespaces ?? process.env.HPCJOB_NAMESPACES);
  const kc = loadKubeConfig(values.kubeconfig ?? process.env.KUBECONFIG);
  const metrics = new Metrics();
  const api = new KubeApi(kc, (verb, kind) => metrics.apiWrites.inc({ verb, kind }));
  let started = false;
  const onFatal = (err: unknown) => {
    logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'a watch gave up; exiting to be restarted');
    process.exit(2);
  };
  const caches = kubeCaches(kc, api, logger, onFatal, namespaces);
  const gangApis = await discoverGangApis(api);
  const controller = new Controller({ api, caches, config, logger, metrics, gangApis });
  const port = Number(values['metrics-port'] ?? process.env.HPCJOB_METRICS_PORT ?? 8080);
  const server = serveHttp(port, metrics, () => started);
  // Admission needs no cache: it answers from the request and the site policy, from the first second.
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
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down; letting passes under way finish');
    server.close();
    webhook?.close();
    void controller.stop(20_000).then(() => {
      logger.info('stopped');
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  logger.info(
    {
      server: kc.getCurrentCluster()?.server,
      config: configPath ?? '(defaults)',
      metricsPort: port,
      webhookPort: webhook ? webhookPort : 'off',
      namespaces: namespaces.length > 0 ? namespaces : '(all)',
    },
    'starting',
  );
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

process.on('unhandledRejection', (err) => {
  logger.error({ err: err instanceof Error ? err.message : String(err) }, 'unhandled rejection');
});

main().catch((err: unknown) => {
  logger.fatal({ err: err instanceof Error ? err.message : String(err) }, 'operator failed to start');
  process.exit(1);
});

// The operator's admission webhooks registered with the real API server for a test file: a CA and a serving
// certificate for 127.0.0.1 made with openssl, an operator serving /mutate and /validate with a site policy, and a
// Mutating- and a ValidatingWebhookConfiguration that point at it by URL. The configurations only select namespaces
// labelled for this registration, so one left behind by a killed run blocks no other test's HPCJobs; they are
// removed after the file whatever happened.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { kubectl } from './cluster.js';
import { freePort, OperatorProcess } from './operator.js';
import type { Kubectl } from './users.js';

type Loose = Record<string, unknown>;

/** The label a namespace needs for the registration's webhooks to see its HPCJobs. */
export const WEBHOOK_NAMESPACE_LABEL = 'hpcjob.dev/admission-test';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** tls.crt / tls.key for 127.0.0.1 in dir, signed by a CA made for them; returns the CA's PEM. */
export function makeServingCertificate(dir: string): string {
  openssl(
    dir,
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt'].concat([
      '-days',
      '1',
      '-subj',
      '/CN=hpcjob-webhook-test-ca',
    ]),
  );
  // The API server checks the address it dials against the subjectAltName, never the CN.
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tls.key',
    '-out',
    'tls.csr',
    '-subj',
    '/CN=127.0.0.1',
  ]);
  openssl(
    dir,
    ['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial'].concat([
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-extfile',
      'san.ext',
    ]),
  );
  return readFileSync(path.join(dir, 'ca.crt'), 'utf8');
}

function webhookConfiguration(kind: 'Mutating' | 'Validating', name: string, url: string, caBundle: string) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks: [
      {
        name: `${kind.toLowerCase()}.${name}.hpcjob.dev`,
        clientConfig: { url, caBundle },
        rules: [
          {
            apiGroups: ['hpcjob.dev'],
            apiVersions: ['v1alpha1'],
            resources: ['hpcjobs'],
            operations: ['CREATE', 'UPDATE'],
            scope: 'Namespaced',
          },
        ],
        namespaceSelector: { matchLabels: { [WEBHOOK_NAMESPACE_LABEL]: name } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
      },
    ],
  };
}

export class AdmissionWebhooks {
  readonly operator: OperatorProcess;
  readonly #sitePolicy: object;
  /** The operator's arguments, filled in by start(). */
  readonly #args: string[] = [];
  #dir: string | undefined;
  #port = 0;
  #registered = false;

  /** name: of the configurations and of the label value namespaces carry; sitePolicy: the config's sitePolicy. */
  constructor(
    readonly name: string,
    sitePolicy: object,
  ) {
    this.#sitePolicy = sitePolicy;
    this.operator = new OperatorProcess(name, this.#args);
  }

  /** Labels that put a namespace under these webhooks. */
  get namespaceLabels(): Record<string, string> {
    return { [WEBHOOK_NAMESPACE_LABEL]: this.name };
  }

  /** Starts the operator serving the webhooks, registers them and waits until the API server calls them. */
  async start(): Promise<void> {
    // Made here, not in the constructor: a describe that jest skips runs neither start() nor stop().
    const dir = mkdtempSync(path.join(tmpdir(), 'hpcjob-webhook-'));
    this.#dir = dir;
    writeFileSync(path.join(dir, 'config.yaml'), stringify({ sitePolicy: this.#sitePolicy }));
    const caBundle = Buffer.from(makeServingCertificate(dir)).toString('base64');
    this.#port = await freePort();
    this.#args.push('--config', path.join(dir, 'config.yaml'), '--webhook-cert-dir', dir);
    this.#args.push('--webhook-port', String(this.#port));
    const saved = process.env.HPCJOB_WEBHOOK_ADDRESS;
    process.env.HPCJOB_WEBHOOK_ADDRESS = '127.0.0.1';
    try {
      await this.operator.start();
    } finally {
      if (saved === undefined) delete process.env.HPCJOB_WEBHOOK_ADDRESS;
      else process.env.HPCJOB_WEBHOOK_ADDRESS = saved;
    }
    const base = `https://127.0.0.1:${this.#port}`;
    this.#registered = true;
    const applied = kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          webhookConfiguration('Mutating', this.name, `${base}/mutate`, caBundle),
          webhookConfiguration('Validating', this.name, `${base}/validate`, caBundle),
        ],
      }),
    );
    if (applied.status !== 0) throw new Error(`registering the webhooks: ${applied.stderr}`);
  }

  /**
   * Waits until the API server calls both webhooks, as a user the policy maps, in a namespace they select: a
   * server-side dry run of `plain` comes back with spec.submitter written, and one of `forbidden` is refused by the
   * validating webhook. The two configurations reach the API server's caches each in its own time.
   */
  async waitUntilActive(as: Kubectl, namespace: string, plain: object, forbidden: object): Promise<void> {
    const dryRun = (job: object) =>
      as(['create', '--dry-run=server', '-n', namespace, '-o', 'json', '-f', '-'], JSON.stringify(job));
    const validating = `admission webhook "validating.${this.name}.hpcjob.dev" denied the request`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const mutated = dryRun(plain);
      const refused = dryRun(forbidden);
      const submitter = mutated.status === 0 && (JSON.parse(mutated.stdout) as { spec?: Loose }).spec?.submitter;
      if (submitter && refused.stderr.includes(validating)) return;
      if (Date.now() > deadline) {
        throw new Error(`the webhooks did not answer in ${namespace}: ${mutated.stderr} ${refused.stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Removes the configurations: a Fail webhook whose server is gone refuses every HPCJob it selects. */
  unregister(): void {
    if (!this.#registered) return;
    const removed = kubectl([
      'delete',
      `mutatingwebhookconfiguration/${this.name}`,
      `validatingwebhookconfiguration/${this.name}`,
      '--ignore-not-found',
    ]);
    if (removed.status !== 0) throw new Error(`removing the webhook configurations ${this.name}: ${removed.stderr}`);
    this.#registered = false;
  }

  /** Unregisters (when not done yet), then stops the operator and removes the certificates. */
  async stop(): Promise<void> {
    try {
      this.unregister();
    } finally {
      await this.operator.stop();
      if (this.#dir) rmSync(this.#dir, { recursive: true, force: true });
    }
  }
}

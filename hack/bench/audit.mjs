// Write requests per client, read from the API server's audit log (hack/cluster with HPCJOB_AUDIT_LOG; the policy in
// hack/audit/policy.yaml logs write verbs only, one line per request). `apiserver_request_total` has no client label,
// and an operator's own counter would not see what others write because of it (a Job controller's pods).
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

/** Where events written from now on start: the log file (by inode, as it may be rotated) and its size now. */
export function auditOffset(file) {
  const { ino, size } = statSync(file);
  return { ino, size };
}

function readRange(file, from, to) {
  if (to <= from) return '';
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(to - from);
    readSync(fd, buffer, 0, buffer.length, from);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The audit events written since `from` (the log is written in blocking mode: a write is in it once done). The API
 * server rotates the file by renaming it; then the events are the rest of the renamed file and the new one's start.
 */
export function readAuditEvents(file, from) {
  const current = statSync(file);
  let text;
  if (current.ino === from.ino) text = readRange(file, from.size, current.size);
  else {
    const dir = path.dirname(file);
    const rotated = readdirSync(dir)
      .map((name) => path.join(dir, name))
      .find((f) => f !== file && statSync(f).ino === from.ino);
    if (!rotated) throw new Error(`bench: ${file} was rotated twice during one measurement`);
    text = readRange(rotated, from.size, statSync(rotated).size) + readRange(file, 0, current.size);
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
}

/**
 * Who made a request: the authenticated user name, except for the control plane's components, which share the
 * admin certificate (sharedUser) and are told apart by their user agent, e.g.
 * "kube-controller-manager/v1.36.3 (linux/amd64) kubernetes/$Format/job-controller" -> kube-controller-manager/job-controller.
 */
export function clientOf(event, sharedUser) {
  const user = event.user?.username ?? 'unknown';
  if (user !== sharedUser) return user;
  const agent = event.userAgent ?? '';
  const program = agent.split('/')[0] || 'unknown';
  const controller = / kubernetes\/[^/ ]+\/(.+)$/.exec(agent)?.[1];
  return controller ? `${program}/${controller}` : program;
}

const resourceOf = (ref) => (ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource);

/** Write requests in one namespace, per client: total, refused (status >= 400), and per "verb resource". */
export function countWrites(events, namespace, sharedUser) {
  const clients = {};
  for (const event of events) {
    const ref = event.objectRef ?? {};
    if (event.stage !== 'ResponseComplete' || ref.namespace !== namespace || ref.resource === 'namespaces') continue;
    const client = clientOf(event, sharedUser);
    const entry = (clients[client] ??= { total: 0, refused: 0, byVerb: {} });
    entry.total++;
    if ((event.responseStatus?.code ?? 0) >= 400) entry.refused++;
    const key = `${event.verb} ${resourceOf(ref)}`;
    entry.byVerb[key] = (entry.byVerb[key] ?? 0) + 1;
  }
  return clients;
}

const round2 = (n) => Math.round(n * 100) / 100;

/** The counts divided by the number of jobs, clients with the most writes first. */
export function writesPerJob(clients, jobs) {
  const sorted = Object.entries(clients).sort(([, a], [, b]) => b.total - a.total);
  return Object.fromEntries(
    sorted.map(([client, { total, refused, byVerb }]) => [
      client,
      {
        perJob: round2(total / jobs),
        total,
        refused,
        byVerbPerJob: Object.fromEntries(
          Object.entries(byVerb)
            .sort(([, a], [, b]) => b - a)
            .map(([key, n]) => [key, round2(n / jobs)]),
        ),
      },
    ]),
  );
}

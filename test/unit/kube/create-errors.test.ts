// Create failures sorted by what it takes to get past them.
import { apiMessage, classifyCreateError } from '../../../src/kube/create-errors.js';

const apiError = (code: number, message: string) =>
  Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });

test.each([
  [409, 'pods "j-worker-0" already exists', 'exists'],
  [
    403,
    'pods "j-worker-3" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=3, limited: pods=3',
    'quota',
  ],
  [403, 'pods "j-worker-0" is forbidden: violates PodSecurity "restricted:latest": host namespaces', 'rejected'],
  [400, 'admission webhook "deny.example.com" denied the request: no GPUs on Fridays', 'rejected'],
  [
    422,
    'Pod "j-worker-0" is invalid: spec.containers[0].volumeMounts[3].mountPath: Invalid value: "/dev/shm"',
    'rejected',
  ],
  [413, 'Request entity too large: limit is 3145728', 'rejected'],
  [429, 'storage is (re)initializing', 'transient'],
  [500, 'Internal error occurred: failed calling webhook "x": connection refused', 'transient'],
  [503, 'service unavailable', 'transient'],
] as const)('HTTP %i (%s) is %s', (code, message, kind) => {
  expect(classifyCreateError(apiError(code, message))).toEqual({ kind, message });
});

test('an error with no HTTP status (the API server unreachable) is transient, with its own message', () => {
  expect(classifyCreateError(new Error('connect ECONNREFUSED 127.0.0.1:6443'))).toEqual({
    kind: 'transient',
    message: 'connect ECONNREFUSED 127.0.0.1:6443',
  });
});

test("the API's message is read from a body given as an object or as unparseable text", () => {
  expect(apiMessage({ body: { message: 'from object' } })).toBe('from object');
  expect(apiMessage(Object.assign(new Error('fallback'), { body: '<html>' }))).toBe('fallback');
});

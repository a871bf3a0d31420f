// Reading a kubeconfig into the operator's cluster access: the current context's server, CA and credentials, inline
// or in files beside it, exec plugins (with expiry), and the refusals that name what is wrong.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { fromKubeconfigFile, loadClusterAccess } from '../../../src/kube/kubeconfig.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-test-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubeconfig(user: object, cluster: object = { server: 'https://127.0.0.1:6443' }, current = 'main'): string {
  const file = path.join(dir, 'config');
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': current,
      contexts: [
        { name: 'main', context: { cluster: 'c', user: 'u' } },
        { name: 'other', context: { cluster: 'missing', user: 'u' } },
      ],
      clusters: [{ name: 'c', cluster }],
      users: [{ name: 'u', user }],
    }),
  );
  return file;
}

test('inline certificate data and the CA of the current context', () => {
  const access = fromKubeconfigFile(
    kubeconfig(
      { 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
      { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('CA') },
    ),
  );
  expect(access).toMatchObject({ server: 'https://10.0.0.1:6443', context: 'main', insecureSkipTlsVerify: false });
  expect([access.ca?.toString(), access.cert?.toString(), access.key?.toString()]).toEqual(['CA', 'CERT', 'KEY']);
  expect(access.authorization()).toBeUndefined();
});

test('files named relative to the kubeconfig are read beside it', () => {
  writeFileSync(path.join(dir, 'ca.crt'), 'CA-FILE');
  writeFileSync(path.join(dir, 'token'), 'file-token\n');
  const access = fromKubeconfigFile(
    kubeconfig({ tokenFile: 'token' }, { server: 'https://h:1', 'certificate-authority': 'ca.crt' }),
  );
  expect(access.ca?.toString()).toBe('CA-FILE');
  expect(access.authorization()).toBe('Bearer file-token');
});

test('a token, basic auth, and skipping TLS verification', () => {
  expect(fromKubeconfigFile(kubeconfig({ token: 'abc' })).authorization()).toBe('Bearer abc');
  expect(fromKubeconfigFile(kubeconfig({ username: 'a', password: 'b' })).authorization()).toBe(`Basic ${b64('a:b')}`);
  const insecure = fromKubeconfigFile(kubeconfig({}, { server: 'https://h:1', 'insecure-skip-tls-verify': true }));
  expect(insecure.insecureSkipTlsVerify).toBe(true);
});

test("an exec plugin's token is used until it expires, then asked for again", () => {
  const counter = path.join(dir, 'calls');
  const plugin = path.join(dir, 'plugin.sh');
  // Each run prints a new token, expired already, so every use asks again.
  writeFileSync(
    plugin,
    `#!/bin/sh\necho x >> "${counter}"\nn=$(wc -l < "${counter}")\n` +
      `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":` +
      `{"token":"t%s","expirationTimestamp":"%s"}}' "$n" "$EXPIRY"\n`,
  );
  chmodSync(plugin, 0o755);
  const expired = new Date(Date.now() - 60_000).toISOString();
  const exec = { command: './plugin.sh', apiVersion: 'client.authentication.k8s.io/v1', env: [] };
  const renewing = fromKubeconfigFile(kubeconfig({ exec: { ...exec, env: [{ name: 'EXPIRY', value: expired }] } }));
  // Asked once at start (its certificate, if any, is taken then), and again for each use of an expired token.
  expect(renewing.authorization()).toBe('Bearer t2');
  expect(renewing.authorization()).toBe('Bearer t3');

  rmSync(counter);
  const later = new Date(Date.now() + 3600_000).toISOString();
  const lasting = fromKubeconfigFile(kubeconfig({ exec: { ...exec, env: [{ name: 'EXPIRY', value: later }] } }));
  expect(lasting.authorization()).toBe('Bearer t1');
  expect(lasting.authorization()).toBe('Bearer t1');
});

test('what cannot be used is refused with the reason', () => {
  expect(() => fromKubeconfigFile(kubeconfig({ 'auth-provider': { name: 'gcp' } }))).toThrow(
    /auth-provider gcp, which the operator does not support/,
  );
  expect(() => fromKubeconfigFile(kubeconfig({}, {}, 'main'))).toThrow(/cluster "c" has no server/);
  expect(() => fromKubeconfigFile(kubeconfig({}, undefined, 'other'))).toThrow(/no cluster named "missing"/);
  expect(() => fromKubeconfigFile(kubeconfig({}, undefined, 'nowhere'))).toThrow(/no context named "nowhere"/);
});

test('the first file of a KUBECONFIG-style list is the one read', () => {
  const file = kubeconfig({ token: 'x' });
  expect(loadClusterAccess(`${file}${path.delimiter}/nonexistent`).server).toBe('https://127.0.0.1:6443');
});

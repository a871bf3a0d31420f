import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { generateSshKeyPair, renderKnownHosts, renderSshConfig } from '../../../src/render/ssh.js';

describe('ssh', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'hpcjob-ssh-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('generateSshKeyPair', () => {
    it('writes an ed25519 private key that OpenSSH reads, matching its public key', () => {
      const keys = generateSshKeyPair('hpcjob test');
      const file = join(dir, 'id_key');
      writeFileSync(file, keys.privateKey, { mode: 0o600 });
      // ssh-keygen -y derives the public key from the private key file: the real OpenSSH parser.
      const derived = execFileSync('ssh-keygen', ['-y', '-f', file], { encoding: 'utf8' });
      expect(derived.trim()).toBe(keys.publicKey.trim());
      expect(keys.privateKey).toMatch(
        /^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
      );
      expect(execFileSync('ssh-keygen', ['-l', '-f', file], { encoding: 'utf8' })).toMatch(
        /^256 SHA256:\S+ hpcjob_test \(ED25519\)/,
      );
    });

    it('makes a new key on every call', () => {
      expect(generateSshKeyPair('a').publicKey).not.toBe(generateSshKeyPair('a').publicKey);
    });

    it('gives a one-line authorized_keys entry whatever the comment', () => {
      fc.assert(
        fc.property(fc.string(), (comment) => {
          const { publicKey } = generateSshKeyPair(comment);
          const [line, rest] = publicKey.split('\n');
          expect(rest).toBe('');
          expect(line).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/=]+( \S+)?$/);
        }),
        { numRuns: 50 },
      );
    });
  });

  describe('renderSshConfig', () => {
    const config = renderSshConfig({
      port: 2222,
      identityFile: '/run/hpcjob/id_key',
      knownHostsFile: '/etc/hpcjob/ssh/known_hosts',
      hostPatterns: ['cfd-worker-*', 'cfd-launcher*'],
    });

    /** The settings real ssh would use for a host, as `ssh -G` prints them. */
    function effective(host: string): Record<string, string> {
      const file = join(dir, 'ssh_config');
      writeFileSync(file, config);
      const out = execFileSync('ssh', ['-T', '-G', '-F', file, host], { encoding: 'utf8' });
      return Object.fromEntries(out.split('\n').map((l) => [l.split(' ')[0]!, l.slice(l.indexOf(' ') + 1)]));
    }

    it("applies the job's port, key and strict host checking to the job's hosts", () => {
      expect(effective('cfd-worker-3.cfd')).toMatchObject({
        port: '2222',
        identityfile: '/run/hpcjob/id_key',
        identitiesonly: 'yes',
        userknownhostsfile: '/etc/hpcjob/ssh/known_hosts',
        stricthostkeychecking: 'true',
        batchmode: 'yes',
        connecttimeout: '10',
        loglevel: 'ERROR',
      });
      expect(effective('cfd-launcher.cfd')).toMatchObject({ port: '2222' });
    });

    it('leaves other hosts alone', () => {
      expect(effective('elsewhere.example')).toMatchObject({ port: '22', stricthostkeychecking: 'ask' });
    });

    it('matches every host when given no pattern', () => {
      expect(renderSshConfig({ port: 22, identityFile: 'k', knownHostsFile: 'h', hostPatterns: [] })).toContain(
        '\nHost *\n',
      );
    });
  });

  describe('renderKnownHosts', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Blob host-comment\n';

    it('lists each pattern for port 22 and for any other port, with the key and without its comment', () => {
      expect(renderKnownHosts(['cfd-worker-*', 'cfd-launcher*'], key)).toBe(
        'cfd-worker-*,[cfd-worker-*]:*,cfd-launcher*,[cfd-launcher*]:* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Blob\n',
      );
    });

    it('keeps patterns that already name a port, once', () => {
      expect(renderKnownHosts(['a', '[a]:*', '[b]:2222'], key)).toBe(
        'a,[a]:*,[b]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBase64Blob\n',
      );
    });

    it('is empty without hosts and rejects a key that is not an authorized_keys line', () => {
      expect(renderKnownHosts([], key)).toBe('');
      expect(() => renderKnownHosts(['a'], 'garbage')).toThrow(/authorized_keys/);
    });

    it('lets ssh-keygen find a worker on the job port', () => {
      const file = join(dir, 'known_hosts');
      const host = generateSshKeyPair('host');
      writeFileSync(file, renderKnownHosts(['cfd-worker-*'], host.publicKey));
      const found = execFileSync('ssh-keygen', ['-F', '[cfd-worker-1.cfd]:2222', '-f', file], { encoding: 'utf8' });
      expect(found).toContain(host.publicKey.split(' ')[1]);
    });
  });
});

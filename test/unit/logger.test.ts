// The operator's logger: should an object body ever be logged whole, the values of a Secret's data never appear.
import { Writable } from 'node:stream';
import { operatorLogger } from '../../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: operatorLogger('debug', stream) };
}

test('data, stringData and binaryData are redacted at any depth a log call could put an object', () => {
  const { lines, logger } = capture();
  const key = 'LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K-secret';
  const secret = { metadata: { name: 'j-ssh' }, data: { id_key: key }, stringData: { id_key: key } };
  logger.info(secret, 'top level');
  logger.info({ object: secret }, 'one level down');
  logger.warn({ err: { body: secret } }, 'two levels down');
  logger.error({ a: { b: { binaryData: { blob: key } } } }, 'three levels down');
  expect(lines).toHaveLength(4);
  for (const line of lines) {
    expect(line).not.toContain(key);
  }
  expect(lines[1]).toContain('"name":"j-ssh"');
  expect(lines[1]).toContain('[redacted]');
});

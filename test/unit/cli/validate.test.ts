import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, validateFiles } from '../../../src/cli/main.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'hpcjob-cli-'));
function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const good = `apiVersion: hpcjob.dev/v1alpha1
kind: HPCJob
metadata: { name: ok }
spec: { image: img, command: [mpirun, a.out], workers: 2 }
`;

test('a valid manifest has no problems', () => {
  expect(validateFiles([file('good.yaml', good)])).toEqual([]);
});

test('every problem names the file, the document and the field', () => {
  const bad = file(
    'bad.yaml',
    `${good}---\napiVersion: hpcjob.dev/v1alpha1\nkind: HPCJob\nmetadata: { name: nope }\nspec: { image: img, command: [x], workers: 0, mpiImplementation: LAM }\n`,
  );
  const problems = validateFiles([bad]);
  expect(problems.some((p) => p.startsWith(`${bad}#2: spec.workers`))).toBe(true);
  expect(problems.some((p) => p.startsWith(`${bad}#2: spec.mpiImplementation`))).toBe(true);
  expect(problems.every((p) => p.startsWith(`${bad}#2`))).toBe(true);
});

test('validate exits 0 for valid files and 65 for invalid ones; unknown commands are usage errors', async () => {
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    expect(await run(['validate', file('g2.yaml', good)])).toBe(0);
    expect(await run(['validate', file('b2.yaml', good.replace('workers: 2', 'workers: -1'))])).toBe(65);
    expect(await run(['frobnicate'])).toBe(2);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
});

// Jest environment for the integration tests: when a test fails, the control plane's and the operator's log tails are
// printed beside the failure, so a red run in CI can be read without the machine.
import { TestEnvironment } from 'jest-environment-node';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

function logTails(lines) {
  const cache = process.env.HPCJOB_CACHE ?? path.join(process.env.HOME ?? '', '.cache/hpcjob-operator');
  const dirs = [path.join(process.env.HPCJOB_CLUSTER_DIR ?? path.join(cache, 'cluster'), 'logs')];
  if (process.env.HPCJOB_OPERATOR_LOG_DIR) dirs.push(process.env.HPCJOB_OPERATOR_LOG_DIR);
  return dirs
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .map((f) => {
          // KWOK's lease heartbeats say nothing about a failure.
          const text = readFileSync(path.join(dir, f), 'utf8')
            .split('\n')
            .filter((line) => !line.includes('Syncing lease'))
            .slice(-lines)
            .join('\n');
          return `----- ${path.join(dir, f)} (last ${lines} lines) -----\n${text}`;
        }),
    )
    .join('\n');
}

export default class IntegrationEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    if (event.name === 'test_done' && event.test.errors.length > 0) {
      process.stderr.write(`\n===== logs for failed test "${event.test.name}" =====\n${logTails(40)}\n`);
    }
  }
}

// The operator's logger. Log calls pass names, counts and messages, not objects; the redaction below is the
// backstop should an object body (a Secret's data, a pod's env) ever be passed whole: its values never reach a log.
import pino, { type DestinationStream, type Logger } from 'pino';

/** Fields that carry secret values in Kubernetes objects, at the depths a log call could put an object. */
export const REDACTED_PATHS = ['data', 'stringData', 'binaryData'].flatMap((field) => [
  field,
  `*.${field}`,
  `*.*.${field}`,
  `*.*.*.${field}`,
]);

export function operatorLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { component: 'hpcjob-operator' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

// Types for operator-pids.js, which stays JavaScript so that jest's global teardown can load it untransformed.
export function defaultOperatorLogDir(pid?: number): string;
export function processStartTime(pid: number): string;
export function recordOperatorPid(logDir: string, pid: number): void;
export function forgetOperatorPid(logDir: string, pid: number): void;
export function recordedOperatorPids(logDir: string): { pid: number; startTime: string }[];
export function killRecordedOperators(logDir: string): number[];

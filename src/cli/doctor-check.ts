/**
 * What every `abproxy doctor` check returns, and the deadline each one that calls out keeps: a check
 * never hangs the command.
 */
import { withDeadline } from '../upstream/abortable.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it (warn/fail). */
  hint?: string;
}

export type Env = Record<string, string | undefined>;

export const TIMEOUT_MS = 10_000;

export const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  withDeadline(promise, ms, () => new Error(`${what} did not answer within ${ms / 1000} s`));

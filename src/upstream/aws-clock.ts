/**
 * AWS's time as this process signs with it. AWS refuses a signature dated more than five minutes from
 * its own clock (403 InvalidSignatureException "Signature expired: …" or "Signature not yet current: …"),
 * so a machine whose clock drifted (a container, a VM back from sleep) would fail every call for ever.
 * Like the AWS SDK (its systemClockOffset), the gateway learns the offset from the refusal's `Date`
 * header, which is AWS's time, and signs the call again once. One offset for the process: the clock
 * that is wrong is this machine's, whichever host or signer meets it first.
 */
import type { Headers } from './codec.ts';

let offsetMs = 0;

/** Now (epoch ms), by AWS's clock as far as the gateway has learnt it. */
export function awsNowMs(): number {
  return Date.now() + offsetMs;
}

/** The words AWS uses for a request dated too far from its clock (SigV4 services, S3, STS). */
const SKEW_REFUSAL = /Signature expired|Signature not yet current|RequestTimeTooSkewed|RequestExpired/i;

interface AwsShapedError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Headers };
}

function dateHeader(headers: Headers | undefined): string | undefined {
  if (!headers) return undefined;
  for (const name in headers) {
    if (name.toLowerCase() !== 'date') continue;
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
  }
  return undefined;
}

/**
 * When `err` is AWS refusing the call's date (a 4xx saying so, with AWS's time in its `Date`), sets
 * the offset from it and answers true: the call never reached the model, and signed again it passes.
 */
export function learnedAwsClock(err: unknown): boolean {
  const e = err as AwsShapedError | undefined;
  // Bedrock's refusal of a request's date is a 403 (InvalidSignatureException); a 400 merely quoting
  // such words (a validation message echoing a prompt) is not one.
  if (e?.$metadata?.httpStatusCode !== 403) return false;
  if (!SKEW_REFUSAL.test(`${e?.name ?? ''} ${e?.message ?? ''}`)) return false;
  const awsTime = Date.parse(dateHeader(e?.$response?.headers) ?? '');
  if (Number.isNaN(awsTime)) return false;
  // Only a clock AWS would refuse, and only a plausible one: an endpoint answering with a far-off Date
  // (a broken or hostile one among several upstreams) must not move every upstream's signing clock.
  const skewMs = Math.abs(awsTime - Date.now());
  if (skewMs < MIN_SKEW_MS || skewMs > MAX_SKEW_MS) return false;
  offsetMs = awsTime - Date.now();
  return true;
}

/** AWS allows five minutes either way; a refusal dated closer than this is about something else. */
const MIN_SKEW_MS = 4 * 60_000;
/** A machine further off than a day has a broken clock to fix, not one to sign around. */
const MAX_SKEW_MS = 24 * 60 * 60_000;

/** Runs a call that signs with awsNowMs(); when AWS refuses its date, learns AWS's clock and runs it once more. */
export async function withAwsClock<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!learnedAwsClock(err)) throw err;
    return call();
  }
}

/** Tests only: forgets the learnt offset. */
export function resetAwsClock(): void {
  offsetMs = 0;
}

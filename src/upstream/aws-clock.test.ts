import { afterEach, describe, expect, it } from 'vitest';
import { awsNowMs, learnedAwsClock, resetAwsClock, withAwsClock } from './aws-clock.ts';
import { httpError } from './codec.ts';

const MINUTE = 60_000;
const refusal = (message: string, date: string | undefined, status = 403) =>
  httpError(
    status,
    { 'x-amzn-errortype': 'InvalidSignatureException', ...(date === undefined ? {} : { date }) },
    JSON.stringify({ message }),
    'req-1',
  );

afterEach(resetAwsClock);

describe('AWS clock', () => {
  it("learns AWS's time from a refused date and signs the call again, once", async () => {
    const aws = new Date(Date.now() + 7 * MINUTE).toUTCString();
    let calls = 0;
    const result = await withAwsClock(async () => {
      calls++;
      if (calls === 1) throw refusal('Signature expired: 20240101T000000Z is now earlier than …', aws);
      return 'ok';
    });
    expect([result, calls]).toEqual(['ok', 2]);
    expect(Math.abs(awsNowMs() - Date.parse(aws))).toBeLessThan(2_000);
  });

  it('does not retry twice, nor other refusals', async () => {
    const aws = new Date(Date.now() - 7 * MINUTE).toUTCString();
    let calls = 0;
    const always = () =>
      withAwsClock(async () => {
        calls++;
        throw refusal('Signature not yet current: 20240101T000000Z is still later than …', aws);
      });
    await expect(always()).rejects.toThrow(/not yet current/);
    expect(calls).toBe(2);
    const mismatch = refusal('The request signature we calculated does not match …', aws);
    expect(learnedAwsClock(mismatch)).toBe(false);
    // Without AWS's time there is nothing to learn from.
    expect(learnedAwsClock(refusal('Signature expired: …', undefined))).toBe(false);
  });
});

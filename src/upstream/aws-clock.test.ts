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

  it('learns only from a 403 dated as far off as AWS refuses, and no further than a day', () => {
    const at = (minutes: number) => new Date(Date.now() + minutes * MINUTE).toUTCString();
    // A 400 quoting the words (a validation message echoing a prompt) is not a refusal of the date.
    expect(learnedAwsClock(refusal('Signature expired: …', at(7), 400))).toBe(false);
    // Dated within AWS's five minutes: the refusal is about something else.
    expect(learnedAwsClock(refusal('Signature expired: …', at(2)))).toBe(false);
    // A broken or hostile endpoint's 1970 or 2050 moves nobody's clock.
    expect(learnedAwsClock(refusal('Signature expired: …', new Date(0).toUTCString()))).toBe(false);
    expect(learnedAwsClock(refusal('Signature not yet current: …', at(60 * 24 * 365 * 25)))).toBe(false);
    expect(Math.abs(awsNowMs() - Date.now())).toBeLessThan(1_000);
    expect(learnedAwsClock(refusal('Signature expired: …', at(-90)))).toBe(true);
    expect(Math.abs(awsNowMs() - (Date.now() - 90 * MINUTE))).toBeLessThan(2_000);
  });
});

/**
 * The master key may be one a person chose: guessing it must be slow wherever it is presented. Wrong
 * secrets count per address, in the admin sign-in form and on every API route alike; past the limit the
 * address may not use the master key (429, the same answer for right and wrong guesses), while stored
 * keys (random, unguessable) keep working from it.
 */
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY, storeKey } from '../helpers/gateway.ts';

const harness = gatewayWithEmulator();

const models = (key: string) =>
  fetch(`${harness.gateway.url}/v1/models`, {
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
  });

describe('guessing the master key', () => {
  it('is barred after ten wrong keys from one address, on the API and in the sign-in form alike', async () => {
    const { secret } = await storeKey(harness.gateway.store);
    expect((await models(MASTER_KEY)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await models(`guess-${i}`)).status).toBe(401);

    const right = await models(MASTER_KEY);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    const rightBody = (await right.json()) as { error: { type: string; message: string } };
    expect(rightBody.error.type).toBe('rate_limit_error');
    // A wrong guess now gets the very same answer: no oracle.
    const wrong = await models('guess-11');
    expect(wrong.status).toBe(429);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe(
      rightBody.error.message,
    );

    // The sign-in form counts the same guesses.
    const form = await fetch(`${harness.gateway.url}/admin/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: harness.gateway.url },
      body: JSON.stringify({ master_key: MASTER_KEY }),
    });
    expect(form.status).toBe(429);

    // A stored key is no guess: it still works from the same address.
    expect((await models(secret)).status).toBe(200);
  });
});

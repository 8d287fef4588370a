/**
 * The master key may be one a person chose: guessing it must be slow wherever it is presented. Wrong
 * secrets count per address, in the admin sign-in form and on every API route alike; past the limit the
 * address may not use the master key (403 with `x-should-retry: false`, the same answer for right and
 * wrong guesses, which no SDK retries), while stored keys (random, unguessable) keep working from it.
 */
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY, startGateway, storeKey } from '../helpers/gateway.ts';

const harness = gatewayWithEmulator();

const models = (key: string, url = harness.gateway.url) =>
  fetch(`${url}/v1/models`, {
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' },
  });

describe('guessing the master key', () => {
  it('is barred after ten wrong keys from one address, on the API and in the sign-in form alike', async () => {
    const { secret } = await storeKey(harness.gateway.store);
    expect((await models(MASTER_KEY)).status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await models(`guess-${i}`)).status).toBe(401);

    const right = await models(MASTER_KEY);
    expect(right.status).toBe(403);
    expect(right.headers.get('x-should-retry')).toBe('false');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
    const rightBody = (await right.json()) as { error: { type: string; message: string } };
    expect(rightBody.error.type).toBe('permission_error');
    expect(rightBody.error.message).toMatch(/too many wrong keys from this address/);
    // A wrong guess now gets the very same answer: no oracle.
    const wrong = await models('guess-11');
    expect(wrong.status).toBe(403);
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

  it('a barred address: the SDKs make one attempt each, not one per retry', async () => {
    for (let i = 0; i < 10; i++) await models(`guess-again-${i}`);
    let attempts = 0;
    const anthropic = new Anthropic({
      apiKey: MASTER_KEY,
      baseURL: harness.gateway.url,
      // The SDK's own retry policy (2 retries by default); the fetch only counts what it sends.
      fetch: (url, init) => {
        attempts++;
        return fetch(url, init);
      },
    });
    const err = await anthropic.messages
      .create(
        { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
        // A client waiting to retry is cut here: the attempts it made by then are the answer.
        { signal: AbortSignal.timeout(5_000) },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect((err as Error).message).toMatch(/too many wrong keys/);
    expect(attempts).toBe(1);

    // The AWS SDK on the Bedrock-format door, with its default retry policy (3 attempts).
    const bedrock = new BedrockRuntimeClient({
      endpoint: harness.gateway.url,
      region: 'us-east-1',
      token: { token: MASTER_KEY },
      authSchemePreference: ['httpBearerAuth'],
    });
    type SdkError = { name: string; $metadata: { attempts?: number; httpStatusCode?: number } };
    const doorErr: SdkError = await bedrock
      .send(
        new ConverseCommand({
          modelId: 'qwen.qwen3-coder-480b-a35b-v1:0',
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        }),
        { abortSignal: AbortSignal.timeout(5_000) },
      )
      .then(
        () => ({ name: 'no error', $metadata: {} }),
        (e: SdkError) => e,
      );
    expect(doorErr.name).toBe('AccessDeniedException');
    expect(doorErr.$metadata.httpStatusCode).toBe(403);
    expect(doorErr.$metadata.attempts).toBe(1);
    expect(harness.emulator.requests).toHaveLength(0);
  }, 30_000);

  it('counts every secret of a request: two wrong keys in one request are two guesses', async () => {
    // A gateway of its own: the test above has barred this address on the shared one.
    const { server } = await startGateway();
    try {
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${server.url}/v1/models`, {
          headers: { 'x-api-key': `guess-a${i}`, authorization: `Bearer guess-b${i}` },
        });
        expect(res.status).toBe(401);
      }
      const right = await fetch(`${server.url}/v1/models`, { headers: { 'x-api-key': MASTER_KEY } });
      expect(right.status).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('one mistyped key retried by its client is one guess: the address keeps the master key', async () => {
    // Claude Code in Bedrock mode retries a 403 about ten times, and probes two more models, with the
    // same wrong key: one such run used to bar its address from the master key for ten minutes.
    const { server } = await startGateway();
    try {
      const door = (key: string) =>
        fetch(`${server.url}/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body: '{}',
        });
      for (let i = 0; i < 12; i++) expect((await door('abp_mistyped')).status).toBe(403);
      expect((await models(MASTER_KEY, server.url)).status).toBe(200);
      // Distinct wrong keys are still counted each.
      for (let i = 0; i < 9; i++) await door(`abp_guess-${i}`);
      expect((await models(MASTER_KEY, server.url)).status).toBe(403);
    } finally {
      await server.close();
    }
  });
});

/**
 * Large bodies cannot exhaust the gateway's memory: bytes of request bodies held at once are bounded
 * (src/server/http/body-budget.ts). A body beyond the budget is refused with 529 and a retry-after
 * (on the Bedrock-format door: 503 ServiceUnavailableException), the request already running finishes
 * untouched, and the refused one succeeds once it is retried. One key may hold at most half of it: a
 * key holder who starts many slow uploads gets 429 for its own load while other keys still get in.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doorClient } from '../helpers/door.ts';
import { gatewayWithEmulator, MASTER_KEY, postMessages, storeKey } from '../helpers/gateway.ts';

const BUDGET = 300_000;
// The budget is never below one largest body: both are small here.
// Private media and loopback pages allowed: the remote documents below are served from loopback.
const world = gatewayWithEmulator({
  maxBodyBytesInFlight: BUDGET,
  maxBodyBytes: 250_000,
  allowPrivateMedia: true,
  webFetchAllowLoopbackForTests: true,
});

const body = (bytes: number, stream = false) =>
  JSON.stringify({
    model: 'claude-sonnet-4-5',
    max_tokens: 16,
    stream,
    messages: [{ role: 'user', content: 'x'.repeat(bytes) }],
  });

/** A key of its own for the request that holds the budget, so that no key reaches its half first. */
const anotherKey = async () => ({ 'x-api-key': (await storeKey(world.gateway.store)).secret });

it('refuses a body beyond the bytes in flight with 529 and retry-after, and takes it once the others finish', async () => {
  // A slow stream holds 200 KB of body while it runs.
  world.emulator.enqueue({ text: 'slow answer '.repeat(10), chunkSize: 12, chunkDelayMs: 100 });
  const running = await postMessages(world.gateway.url, body(200_000, true), await anotherKey());
  expect(running.status).toBe(200);

  const refused = await postMessages(world.gateway.url, body(150_000));
  expect(refused.status).toBe(529);
  expect(refused.headers.get('retry-after')).toBe('2');
  expect(refused.headers.get('request-id')).toMatch(/^req_/);
  expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  // Counted where an operator looks.
  const metrics = await fetch(`${world.gateway.url}/metrics`).then((r) => r.text());
  expect(metrics).toMatch(/^abproxy_body_budget_refusals_total 1$/m);

  // Small requests still fit beside the running one.
  world.emulator.enqueue({ text: 'small fits' });
  expect((await postMessages(world.gateway.url, body(10_000))).status).toBe(200);

  // The running stream was not touched by the refusal: it ends normally.
  const events = await running.text();
  expect(events).toContain('event: message_stop');

  // Once it is over its bytes are free again: the same body is taken (here through the SDK).
  world.emulator.enqueue({ text: 'now it fits' });
  const client = new Anthropic({ baseURL: world.gateway.url, apiKey: MASTER_KEY, maxRetries: 2 });
  const answer = await client.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 16,
    messages: [{ role: 'user', content: 'y'.repeat(150_000) }],
  });
  expect(answer.content).toEqual([{ type: 'text', text: 'now it fits' }]);
}, 30_000);

it('refuses a door call beyond the budget in Bedrock shape (503 ServiceUnavailableException, which the AWS SDK retries)', async () => {
  world.emulator.enqueue({ text: 'slow answer '.repeat(10), chunkSize: 12, chunkDelayMs: 100 });
  const running = await postMessages(world.gateway.url, body(200_000, true), await anotherKey());
  expect(running.status).toBe(200);
  const door = doorClient(MASTER_KEY, world.gateway.url);
  try {
    const call = door.send(
      new ConverseCommand({
        modelId: 'qwen.qwen3-coder-480b-a35b-v1:0',
        messages: [{ role: 'user', content: [{ text: 'z'.repeat(150_000) }] }],
      }),
    );
    await expect(call).rejects.toMatchObject({
      name: 'ServiceUnavailableException',
      $metadata: { httpStatusCode: 503 },
    });
  } finally {
    door.destroy();
  }
  expect(await running.text()).toContain('event: message_stop');
}, 30_000);

describe('remote media', () => {
  // A text document of 150 KB the gateway fetches for a request of a few hundred bytes.
  const page = Buffer.alloc(150_000, 'remote text ');
  let media: http.Server;
  let documentUrl: string;
  beforeAll(async () => {
    media = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(page));
    await new Promise<void>((resolve) => media.listen(0, '127.0.0.1', resolve));
    documentUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}/doc.txt`;
  });
  afterAll(() => new Promise<void>((resolve) => media.close(() => resolve())));

  const byUrl = () =>
    JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 16,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'document', source: { type: 'url', url: documentUrl } },
            { type: 'text', text: 'summarise' },
          ],
        },
      ],
    });

  it('are held as the body they become: past the budget, 529, as the same bytes sent inline', async () => {
    world.emulator.enqueue({ text: 'slow answer '.repeat(10), chunkSize: 12, chunkDelayMs: 100 });
    const running = await postMessages(world.gateway.url, body(200_000, true), await anotherKey());
    expect(running.status).toBe(200);

    // Without a bound, many such small requests at once fetch megabytes each past every budget.
    const refused = await postMessages(world.gateway.url, byUrl());
    expect(refused.status).toBe(529);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });

    expect(await running.text()).toContain('event: message_stop');
    world.emulator.enqueue({ text: 'read it' });
    const after = await postMessages(world.gateway.url, byUrl());
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ content: [{ type: 'text', text: 'read it' }] });
  }, 30_000);

  it('pages web fetch reads are held too: past the budget the fetch is a too_many_requests error block', async () => {
    world.emulator.enqueue({ text: 'slow answer '.repeat(10), chunkSize: 12, chunkDelayMs: 100 });
    const running = await postMessages(world.gateway.url, body(200_000, true), await anotherKey());
    expect(running.status).toBe(200);

    world.emulator.enqueue(
      { toolCalls: [{ name: 'web_fetch', input: { url: documentUrl } }] },
      { text: 'could not read it' },
    );
    const answer = await postMessages(
      world.gateway.url,
      JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }],
        messages: [{ role: 'user', content: `What does ${documentUrl} say?` }],
      }),
    );
    expect(answer.status).toBe(200);
    const message = (await answer.json()) as { content: { type: string; content?: unknown }[] };
    expect(message.content[1]).toMatchObject({
      type: 'web_fetch_tool_result',
      content: { type: 'web_fetch_tool_result_error', error_code: 'too_many_requests' },
    });
    expect(await running.text()).toContain('event: message_stop');
  }, 30_000);
});

describe('one key holds at most half the budget', () => {
  // 400 KB in flight, 100 KB bodies: each key may hold 200 KB.
  const shared = gatewayWithEmulator({ maxBodyBytesInFlight: 400_000, maxBodyBytes: 100_000 });

  it('refuses the key over its half with 429 (its own load), while another key still gets in', async () => {
    const hog = { 'x-api-key': (await storeKey(shared.gateway.store)).secret };
    const other = (await storeKey(shared.gateway.store)).secret;
    // Two slow streams of the hog hold 180 KB.
    const slow = { text: 'slow answer '.repeat(10), chunkSize: 12, chunkDelayMs: 100 };
    shared.emulator.enqueue(slow);
    shared.emulator.enqueue(slow);
    const running = await Promise.all([
      postMessages(shared.gateway.url, body(90_000, true), hog),
      postMessages(shared.gateway.url, body(90_000, true), hog),
    ]);
    expect(running.map((r) => r.status)).toEqual([200, 200]);

    // Its third would fit the gateway's 400 KB, not its own 200 KB: refused as a rate limit.
    const refused = await postMessages(shared.gateway.url, body(90_000), hog);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(refused.headers.get('request-id')).toMatch(/^req_/);
    expect(await refused.json()).toMatchObject({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.stringMatching(/request bodies in flight/) },
    });

    // Another key's body of the same size is taken beside them, through the SDK.
    shared.emulator.enqueue({ text: 'the other key got in' });
    const client = new Anthropic({ baseURL: shared.gateway.url, apiKey: other, maxRetries: 0 });
    const answer = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'o'.repeat(90_000) }],
    });
    expect(answer.content).toEqual([{ type: 'text', text: 'the other key got in' }]);

    // The hog's streams were not touched; once they are over, its next body is taken.
    for (const stream of running) expect(await stream.text()).toContain('event: message_stop');
    shared.emulator.enqueue({ text: 'hog again' });
    const after = await postMessages(shared.gateway.url, body(90_000), hog);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ content: [{ type: 'text', text: 'hog again' }] });
  }, 30_000);
});

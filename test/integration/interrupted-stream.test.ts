/**
 * A client that hangs up mid-stream is billed for what it was sent (issue 11, item 2): a real gateway
 * on the Bedrock emulator streams a slow 150-delta answer, the client aborts after about half of it,
 * and the usage record, the key's budget spend and its tokens-per-minute counter all reflect the
 * forwarded output — on the native Claude path and on Converse.
 */
import { describe, expect, it } from 'vitest';
import { budgetMonth } from '../../src/limits/budget.ts';
import type { RunningServer } from '../../src/server/http/server.ts';
import type { UsageRecord } from '../../src/store/types.ts';
import { gatewayPerClaudePath, storeKey } from '../helpers/gateway.ts';

const MODEL = 'claude-sonnet-4-5';
const DELTAS = 150;
const CHUNK = 4; // characters per delta: the emulator counts ~4 characters a token, so a delta is a token
const READ_BEFORE_ABORT = 75;
const TPM = 100_000;

const world = gatewayPerClaudePath(['invoke', 'converse'], { usageDrainMs: 50 });

const makeKey = (gateway: RunningServer) => storeKey(gateway.store, { budgetUsd: 100, tokensPerMinute: TPM });

const post = (gateway: RunningServer, secret: string, body: object, signal?: AbortSignal) =>
  fetch(`${gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': secret, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 1000,
      messages: [{ role: 'user', content: 'go' }],
      ...body,
    }),
    signal,
  });

/** Reads SSE text deltas until `count` arrived, then aborts the request. */
async function readDeltasThenAbort(res: Response, abort: AbortController, count: number): Promise<number> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let seen = 0;
  while (seen < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    seen = text.split('event: content_block_delta').length - 1;
  }
  abort.abort();
  return seen;
}

/**
 * Per-minute token limits count in fixed minute windows: a test that spans a minute boundary sees the
 * next window's fresh count. Start early in a minute (the test takes a few seconds).
 */
async function startEarlyInAMinute(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 40_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoMinute + 100));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.each(['invoke', 'converse'] as const)('a client that hangs up mid-stream (%s path)', (path) => {
  it('is billed for the output it was sent: record, budget and tokens per minute', {
    timeout: 60_000,
  }, async () => {
    await startEarlyInAMinute();
    const gateway = world.gateway(path);
    const key = await makeKey(gateway);
    world.emulator.enqueue({
      model: 'claude-sonnet-4-5',
      text: 'word'.repeat(DELTAS),
      chunkSize: CHUNK,
      chunkDelayMs: 15,
    });

    const abort = new AbortController();
    const res = await post(gateway, key.secret, { stream: true }, abort.signal);
    expect(res.status).toBe(200);
    const received = await readDeltasThenAbort(res, abort, READ_BEFORE_ABORT);
    expect(received).toBeGreaterThanOrEqual(READ_BEFORE_ABORT);

    const record = await until('the usage record', async () => {
      const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00.000Z', keyId: key.id });
      return records.find((r: UsageRecord) => r.status !== 0);
    });
    expect(record).toMatchObject({ status: 499, stream: true, interrupted: true, estimated: true });
    // At least what the client got, and not the whole answer (the upstream call was cut).
    expect(record.outputTokens).toBeGreaterThanOrEqual(received);
    expect(record.outputTokens).toBeLessThan(DELTAS);
    expect(record.inputTokens).toBeGreaterThan(0);
    expect(record.costUsd).toBeGreaterThanOrEqual((record.outputTokens * 15) / 1e6);

    // The budget counter (micro-USD, flushed about every second) holds this request's cost.
    const counter = `budget:${key.id}:${budgetMonth(Date.now())}`;
    const spentMicro = await until('the budget charge', async () => {
      const value = await gateway.store.addToCounter(counter, 0, Date.now() + 86_400_000);
      return value > 0 ? value : undefined;
    });
    expect(spentMicro).toBeCloseTo(record.costUsd! * 1e6, -1);

    // Tokens per minute: the next request of the key sees the interrupted one's tokens used.
    world.emulator.enqueue({ model: 'claude-sonnet-4-5', text: 'ok' });
    const next = await post(gateway, key.secret, {});
    expect(next.status).toBe(200);
    const remaining = Number(next.headers.get('anthropic-ratelimit-tokens-remaining'));
    expect(TPM - remaining).toBeGreaterThanOrEqual(record.inputTokens + record.outputTokens);
  });
});

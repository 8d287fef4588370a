/**
 * Requests the gateway refuses itself, by a key's limits or budget, are all treated alike: none leaves
 * a usage record (a usage record is a call that reached, or may have reached, Bedrock; a flood of
 * refusals must not become a flood of store writes, one DynamoDB item each in team mode), each is
 * counted in /metrics by its reason, and the log says so at most once a minute per reason. Driven by
 * the Anthropic SDK on /v1/messages and the AWS SDK on the Bedrock-format door.
 */
import Anthropic from '@anthropic-ai/sdk';
import { ConverseCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import parsePrometheus from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import type { KeyLimits, UsageRecord } from '../../src/store/types.ts';
import { doorClient } from '../helpers/door.ts';
import { type Emulator, startBedrockEmulator, storeKey, testConfig } from '../helpers/gateway.ts';
import { capturedLog, type LogLine } from '../helpers/log.ts';
import { sleep, until } from '../helpers/wait.ts';

const MODEL = 'claude-sonnet-4-5-20250929';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';

let emulator: Emulator;
let gateway: RunningServer;
let lines: LogLine[];

beforeAll(async () => {
  emulator = await startBedrockEmulator();
  const log = capturedLog('info');
  lines = log.lines;
  gateway = await startServer(testConfig({ usageDrainMs: 20 }), { logger: log.logger });
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});

async function makeKey(limits: KeyLimits) {
  const { id, secret } = await storeKey(gateway.store, limits);
  return { id, secret, client: new Anthropic({ baseURL: gateway.url, apiKey: secret, maxRetries: 0 }) };
}

const ask = (client: Anthropic, text = 'hi') =>
  client.messages.create({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: text }] });

const usage = (keyId: string): Promise<UsageRecord[]> =>
  gateway.store.listUsage({ since: '2000-01-01T00:00:00Z', keyId });

/** Once the answered calls' records are stored, and the drain had time for any others. */
async function settledUsage(keyId: string, answered: number): Promise<UsageRecord[]> {
  await until(async () => (await usage(keyId)).filter((r) => r.status !== 0).length >= answered, 5_000);
  await sleep(200);
  return (await usage(keyId)).filter((r) => r.status !== 0);
}

describe("the gateway's own refusals", () => {
  it('requests and tokens per minute, concurrency and budget: no usage record, counted by reason, logged', async () => {
    // Requests per minute.
    const rpm = await makeKey({ requestsPerMinute: 1 });
    await ask(rpm.client);
    expect(await ask(rpm.client).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.RateLimitError);

    // Tokens per minute: the first call's real usage fills the minute.
    const tpm = await makeKey({ tokensPerMinute: 50 });
    await ask(tpm.client, 'lorem ipsum '.repeat(40));
    const tpmErr = await ask(tpm.client).catch((e: unknown) => e);
    expect(tpmErr).toBeInstanceOf(Anthropic.RateLimitError);
    expect((tpmErr as Error).message).toMatch(/tokens per minute/);

    // The same limit on the Bedrock-format door.
    const door = await makeKey({ tokensPerMinute: 50 });
    const converse = () =>
      doorClient(door.secret, gateway.url).send(
        new ConverseCommand({
          modelId: QWEN,
          messages: [{ role: 'user', content: [{ text: 'lorem ipsum '.repeat(40) }] }],
        }),
      );
    await converse();
    expect(await converse().catch((e: unknown) => e)).toBeInstanceOf(ThrottlingException);

    // Concurrent requests: a slow stream holds the only slot.
    const conc = await makeKey({ concurrentRequests: 1 });
    emulator.enqueue({ text: 'one two three four five six', chunkDelayMs: 100, chunkSize: 4 });
    const before = emulator.requests.length;
    const slow = conc.client.messages
      .stream({ model: MODEL, max_tokens: 50, messages: [{ role: 'user', content: 'slow' }] })
      .finalMessage();
    expect(await until(() => emulator.requests.length > before, 5_000)).toBe(true);
    expect(await ask(conc.client).catch((e: unknown) => e)).toBeInstanceOf(Anthropic.RateLimitError);
    await slow;

    // Budget: the first call spends it; the next ones are 402 once the charge lands.
    const budget = await makeKey({ budgetUsd: 0.002 });
    // Room for its worst case (prompt and max_tokens); a 1000-token prompt ($0.003) spends the budget.
    emulator.enqueue({ text: 'ok', usage: { inputTokens: 1000 } });
    await ask(budget.client);
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) {
      refused = await ask(budget.client).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (!refused) await sleep(50);
    }
    expect((refused as { status?: number }).status).toBe(402);
    const budgetAnswered = (await settledUsage(budget.id, 1)).length;

    // Only the answered calls left records.
    for (const [key, answered] of [
      [rpm, 1],
      [tpm, 1],
      [door, 1],
      [conc, 1],
    ] as const) {
      const records = await settledUsage(key.id, answered);
      expect(records.map((r) => r.status)).toEqual(Array(answered).fill(200));
    }
    expect((await settledUsage(budget.id, 1)).every((r) => r.status === 200)).toBe(true);
    expect(budgetAnswered).toBeGreaterThanOrEqual(1);

    // Counted by reason.
    const families = new Map(
      parsePrometheus(await (await fetch(`${gateway.url}/metrics`)).text()).map((f) => [f.name, f]),
    );
    const limited = (limit: string) =>
      Number(
        families.get('abproxy_rate_limited_total')!.metrics.find((m) => m.labels?.limit === limit)?.value,
      );
    expect(limited('requests')).toBe(1);
    expect(limited('tokens')).toBe(2);
    expect(limited('concurrency')).toBe(1);
    expect(Number(families.get('abproxy_budget_refused_total')!.metrics[0]!.value)).toBe(1);

    // Logged, by reason (at most once a minute each, with the key that was refused).
    const logged = lines.filter((l) => l.msg.startsWith('requests refused by'));
    expect(logged.map((l) => l.reason).sort()).toEqual(['budget', 'concurrency', 'requests', 'tokens']);
    expect(logged.find((l) => l.reason === 'requests')).toMatchObject({ keyId: rpm.id });
    expect(logged.find((l) => l.reason === 'tokens')).toMatchObject({
      keyId: tpm.id,
      refusedSinceLastLog: 1,
    });
  }, 30_000);
});

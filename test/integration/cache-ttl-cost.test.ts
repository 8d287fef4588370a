/**
 * 1-hour prompt-cache writes cost 2× input on Anthropic and Bedrock, 5-minute ones 1.25×: a usage record
 * and a budget that priced every write at the 5-minute rate under-counted what Claude Code (which writes
 * most of its cache for an hour) spends. The split comes from Claude's `usage.cache_creation` on
 * InvokeModel and from Converse's `usage.cacheDetails`; both paths, streamed and not.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../../src/store/types.ts';
import { gatewayPerClaudePath, send, storeKey } from '../helpers/gateway.ts';
import { until } from '../helpers/wait.ts';

const MODEL = 'claude-sonnet-4-5';
/** Sonnet 4.5, USD per million tokens: input, output, 1-hour cache write (a 5-minute one is $3.75). */
const PRICE = { input: 3, output: 15, write1h: 6 };

const world = gatewayPerClaudePath(['invoke', 'converse'], { usageDrainMs: 50 });

describe.each(['invoke', 'converse'] as const)(
  '1-hour cache writes are priced at their rate (%s path)',
  (path) => {
    it.each([false, true])('stream: %s', async (stream) => {
      const gateway = world.gateway(path);
      const key = await storeKey(gateway.store);
      const client = new Anthropic({ apiKey: key.secret, baseURL: gateway.url, maxRetries: 0 });
      // A distinct prefix per case, so that each writes the cache rather than reading another case's.
      const rules = `${path} ${stream} rules: ${'be exact and brief. '.repeat(300)}`;
      const message = await send(
        client,
        {
          model: MODEL,
          max_tokens: 200,
          system: [{ type: 'text', text: rules, cache_control: { type: 'ephemeral', ttl: '1h' } }],
          messages: [{ role: 'user', content: 'hello' }],
        },
        stream,
      );

      const written = message.usage.cache_creation_input_tokens ?? 0;
      expect(written).toBeGreaterThan(1000);
      // The client sees the split as Anthropic sends it (a Converse stream has no event to carry it:
      // its counts come after message_start, and message_delta's usage has no such field).
      if (!(path === 'converse' && stream))
        expect(message.usage.cache_creation).toEqual({
          ephemeral_5m_input_tokens: 0,
          ephemeral_1h_input_tokens: written,
        });

      let record: UsageRecord | undefined;
      await until(async () => {
        const records = await gateway.store.listUsage({ since: '2000-01-01T00:00:00.000Z', keyId: key.id });
        record = records.find((r) => r.status === 200);
        return record !== undefined;
      }, 5000);
      expect(record).toBeDefined();
      const { inputTokens, outputTokens, cacheWriteInputTokens } = record!;
      expect(cacheWriteInputTokens).toBe(written);
      const expected =
        (inputTokens * PRICE.input + outputTokens * PRICE.output + written * PRICE.write1h) / 1e6;
      // Before: every write at $3.75, ~$0.0025 short on this prompt.
      expect(record!.costUsd).toBeCloseTo(expected, 8);
    });
  },
);

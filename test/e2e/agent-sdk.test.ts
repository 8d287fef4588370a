/**
 * The Claude Agent SDK (`@anthropic-ai/claude-agent-sdk`'s `query()`, which runs its bundled native
 * Claude Code) through `abproxy serve` against the Bedrock emulator, as a developer would use it:
 * `ANTHROPIC_BASE_URL` and an API key in `options.env`, no Anthropic login, offline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSdkMcpServer,
  type Options,
  query,
  type SDKMessage,
  type SDKResultMessage,
  type SDKUserMessage,
  tool,
} from '@anthropic-ai/claude-agent-sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { UsageReport } from '../../src/usage/report.ts';
import { runAbproxy } from '../helpers/process.ts';
import { agentSdkBinary, MASTER_KEY, modelCalls, type Stack, startStack } from './harness.ts';

type Json = Record<string, unknown>;

interface Timed {
  at: number;
  message: SDKMessage;
}

interface AgentRun {
  messages: Timed[];
  result?: SDKResultMessage;
  /** What `query()` threw, if it did. */
  error?: unknown;
  stderr: string;
  elapsedMs: number;
}

const installed = agentSdkBinary() !== undefined;
const missing =
  `skipped: the Agent SDK's native binary (@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}) ` +
  'is not installed';
if (!installed) console.warn(`agent-sdk.test.ts ${missing}`);

describe.skipIf(!installed)(
  installed
    ? 'Claude Agent SDK query() through abproxy'
    : `Claude Agent SDK query() through abproxy (${missing})`,
  () => {
    let stack: Stack;
    let home: string;

    beforeAll(async () => {
      stack = await startStack();
    });
    afterAll(async () => {
      await stack?.close();
    });
    beforeEach(() => {
      stack.reset();
      home = mkdtempSync(join(tmpdir(), 'abproxy-e2e-agent-'));
      return () => rmSync(home, { recursive: true, force: true });
    });

    /** What an app passes as `options.env`: the gateway and a key, offline, nothing inherited. */
    const sdkEnv = (key: string) => ({
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      ANTHROPIC_BASE_URL: stack.proxyUrl,
      ANTHROPIC_API_KEY: key,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_AUTOUPDATER: '1',
      DISABLE_ERROR_REPORTING: '1',
    });

    /** Runs `query()` to its end the way an app would, keeping every message and when it came. */
    async function run(
      prompt: string,
      options: Options & { key?: string; onMessage?: (m: SDKMessage) => void } = {},
    ): Promise<AgentRun> {
      const { key = MASTER_KEY, onMessage, ...rest } = options;
      const stderr: string[] = [];
      const messages: Timed[] = [];
      const started = Date.now();
      let error: unknown;
      try {
        for await (const message of query({
          prompt,
          options: {
            cwd: home,
            env: sdkEnv(key),
            persistSession: false,
            settingSources: [],
            stderr: (data) => stderr.push(data),
            ...rest,
          },
        })) {
          messages.push({ at: Date.now() - started, message });
          onMessage?.(message);
        }
      } catch (err) {
        error = err;
      }
      const result = messages.map((m) => m.message).find((m): m is SDKResultMessage => m.type === 'result');
      return { messages, result, error, stderr: stderr.join(''), elapsedMs: Date.now() - started };
    }

    const diagnostics = (r: AgentRun) =>
      `error: ${String(r.error)}\nresult: ${JSON.stringify(r.result)}\nstderr: ${r.stderr.slice(-2000)}\n` +
      `gateway: ${stack.gatewayLog().slice(-2000)}\n` +
      stack.captured.map((c) => `${c.method} ${c.url} → ${c.status} ${c.response.slice(0, 300)}`).join('\n');

    /** Polls `check` until it returns something (records reach the store within the drain interval). */
    async function waitFor<T>(
      check: () => T | undefined | Promise<T | undefined>,
      timeoutMs = 5_000,
    ): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error('timed out waiting');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const usageRecords = async () => {
      const out = await runAbproxy(['usage', '--by', 'request', '--format', 'json'], {
        env: { PATH: process.env.PATH, ABPROXY_HOME: stack.gatewayHome, AWS_REGION: 'us-east-1' },
      });
      expect(out.code, out.stderr).toBe(0);
      return (JSON.parse(out.stdout) as UsageReport).groups;
    };

    function expectSuccess(r: AgentRun, text: string) {
      expect(r.error, diagnostics(r)).toBeUndefined();
      expect(r.result?.subtype, diagnostics(r)).toBe('success');
      expect(r.result?.is_error).toBe(false);
      if (r.result?.subtype === 'success') expect(r.result.result).toContain(text);
    }

    it('a plain prompt on Claude (InvokeModel): the answer, its usage and a cost', async () => {
      stack.emulator.enqueue({
        model: 'claude-sonnet-4-5',
        text: 'Bonjour from Bedrock.',
        usage: { inputTokens: 1200, outputTokens: 40, cacheWriteInputTokens: 3000, cacheReadInputTokens: 0 },
      });
      const r = await run('Say hello in French', { model: 'claude-sonnet-4-5' });
      expectSuccess(r, 'Bonjour from Bedrock.');
      expect(r.result!.usage).toMatchObject({
        input_tokens: 1200,
        cache_creation_input_tokens: 3000,
        cache_read_input_tokens: 0,
        output_tokens: 40,
      });
      // The SDK prices Sonnet 4.5 at $3 input, $3.75 cache write, $15 output per million tokens.
      expect(r.result!.total_cost_usd).toBeCloseTo((1200 * 3 + 3000 * 3.75 + 40 * 15) / 1e6, 8);
      const calls = modelCalls(stack.emulator);
      expect(calls.map((c) => [c.operation, c.modelId, c.status])).toEqual([
        ['InvokeModelWithResponseStream', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 200],
      ]);
      // The gateway bills what the SDK reports, under the SDK's session id (`abproxy usage --by session`).
      const record = await waitFor(async () =>
        (await usageRecords()).find((g) => g.session === r.result!.session_id),
      );
      expect(record).toMatchObject({
        model: 'claude-sonnet-4-5',
        status: 200,
        input_tokens: 1200,
        output_tokens: 40,
      });
      expect(record.cost_usd).toBeCloseTo(r.result!.total_cost_usd, 6);
      // The SDK's per-session billing line (cc_entrypoint=sdk-ts) stays home: it would defeat prompt caching.
      expect(JSON.stringify(stack.captured[0]!.body)).toContain('x-anthropic-billing-header');
      expect(JSON.stringify(calls[0]!.body)).not.toContain('x-anthropic-billing-header');
    });

    it('a plain prompt on an open model (Qwen3 Coder over Converse): the answer and its usage', async () => {
      const model = 'qwen.qwen3-coder-480b-a35b-v1:0';
      stack.emulator.enqueue({
        model,
        text: 'Hello from Qwen.',
        usage: { inputTokens: 900, outputTokens: 12, cacheWriteInputTokens: 0, cacheReadInputTokens: 0 },
      });
      const r = await run('Say hello', { model });
      expectSuccess(r, 'Hello from Qwen.');
      expect(r.result!.usage).toMatchObject({ input_tokens: 900, output_tokens: 12 });
      expect(Number.isFinite(r.result!.total_cost_usd)).toBe(true);
      expect(r.result!.total_cost_usd).toBeGreaterThanOrEqual(0);
      expect(modelCalls(stack.emulator).map((c) => [c.operation, c.modelId, c.status])).toEqual([
        ['ConverseStream', model, 200],
      ]);
    });

    it.each([
      ['Claude (InvokeModel)', 'claude-sonnet-4-5'],
      ['Qwen3 Coder (Converse)', 'qwen.qwen3-coder-480b-a35b-v1:0'],
    ])(
      'includePartialMessages on %s: text deltas arrive as the model writes, before the result',
      async (_, model) => {
        const answer = 'One two three four five six seven eight nine ten.';
        // 13 deltas, 80 ms apart: a buffered answer would bring them all at once, at the end.
        stack.emulator.enqueue({ model, text: answer, chunkSize: 4, chunkDelayMs: 80 });
        const r = await run('Count to ten', { model, includePartialMessages: true });
        expectSuccess(r, answer);
        const deltas = r.messages.filter(
          ({ message: m }) =>
            m.type === 'stream_event' &&
            m.event.type === 'content_block_delta' &&
            m.event.delta.type === 'text_delta',
        );
        const text = deltas
          .map(({ message: m }) =>
            m.type === 'stream_event' &&
            m.event.type === 'content_block_delta' &&
            m.event.delta.type === 'text_delta'
              ? m.event.delta.text
              : '',
          )
          .join('');
        expect(text).toBe(answer);
        expect(deltas.length).toBeGreaterThanOrEqual(10);
        const resultAt = r.messages.find(({ message: m }) => m.type === 'result')!.at;
        expect(resultAt - deltas[0]!.at, diagnostics(r)).toBeGreaterThan(600);
        expect(deltas.at(-1)!.at - deltas[0]!.at).toBeGreaterThan(600);
      },
    );

    it.each([
      [
        'Claude Opus 4.6 (InvokeModel, thinking)',
        'claude-opus-4-6',
        ['I will load the vault tool.', 'Now I call it.', 'The vault answered.'],
      ],
      ['Qwen3 Coder (Converse)', 'qwen.qwen3-coder-480b-a35b-v1:0', undefined],
    ])(
      'an in-process MCP tool (createSdkMcpServer + zod) on %s: found by ToolSearch, called, its result sent back',
      async (_, model, reasoning) => {
        const calls: unknown[] = [];
        const vault = createSdkMcpServer({
          name: 'vault',
          version: '1.0.0',
          tools: [
            tool(
              'lookup_secret',
              'Looks up the secret stored under a name',
              { name: z.string().describe('the secret to look up'), shout: z.boolean().optional() },
              async (args) => {
                calls.push(args);
                return { content: [{ type: 'text', text: `The secret ${args.name} is OSPREY-19.` }] };
              },
            ),
          ],
        });
        const think = (i: number) => (reasoning ? { reasoning: { text: reasoning[i]! } } : {});
        // Claude Code defers MCP tools behind its ToolSearch tool: the model loads the tool, then calls it.
        stack.emulator.enqueue(
          {
            model,
            ...think(0),
            toolCalls: [
              { name: 'ToolSearch', input: { query: 'select:mcp__vault__lookup_secret', max_results: 1 } },
            ],
          },
          {
            model,
            ...think(1),
            toolCalls: [{ name: 'mcp__vault__lookup_secret', input: { name: 'launch-code', shout: false } }],
          },
          { model, ...think(2), text: 'Vault says: {{toolResult}}' },
        );
        const r = await run('What is the launch-code secret?', {
          model,
          mcpServers: { vault },
          allowedTools: ['mcp__vault__lookup_secret'],
        });
        const sent = stack.captured.filter((c) => c.url.startsWith('/v1/messages'));
        expectSuccess(r, 'Vault says: The secret launch-code is OSPREY-19.');
        expect(calls).toEqual([{ name: 'launch-code', shout: false }]);
        expect(
          sent.map((c) => c.status),
          diagnostics(r),
        ).toEqual([200, 200, 200]);
        const emulated = modelCalls(stack.emulator);
        expect(emulated.map((c) => c.status)).toEqual([200, 200, 200]);
        expect(JSON.stringify((emulated[2]!.body as Json).messages)).toContain('OSPREY-19');
      },
    );

    /** An error result the SDK gave at once, with the gateway's status; returns the text the app shows. */
    function expectRefusal(r: AgentRun, status: number) {
      expect(r.result?.is_error, diagnostics(r)).toBe(true);
      expect((r.result as Json | undefined)?.api_error_status).toBe(status);
      expect(r.elapsedMs).toBeLessThan(10_000);
      return String((r.result as Json).result);
    }

    it('a wrong key: an authentication error at once, no retries', async () => {
      const r = await run('Hello', { model: 'claude-sonnet-4-5', key: 'abp_not-a-real-key' });
      expect(expectRefusal(r, 401)).toMatch(/Invalid API key/);
      expect(stack.captured.map((c) => c.status)).toEqual([401]);
      expect(modelCalls(stack.emulator)).toHaveLength(0);
    });

    it('a revoked key: an authentication error naming the revocation, at once', async () => {
      const env = { PATH: process.env.PATH, ABPROXY_HOME: stack.gatewayHome, AWS_REGION: 'us-east-1' };
      const created = await runAbproxy(['keys', 'create', '--name', 'agent-app', '--json'], { env });
      expect(created.code, created.stderr).toBe(0);
      const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
      stack.emulator.enqueue({ model: 'claude-sonnet-4-5', text: 'Works.' });
      expectSuccess(await run('Hello', { model: 'claude-sonnet-4-5', key }), 'Works.');
      const revoked = await runAbproxy(['keys', 'revoke', id], { env });
      expect(revoked.code, revoked.stderr).toBe(0);
      stack.reset();
      const r = await run('Hello', { model: 'claude-sonnet-4-5', key });
      expect(expectRefusal(r, 401)).toContain('revoked');
      expect(stack.captured.map((c) => c.status)).toEqual([401]);
      expect(modelCalls(stack.emulator)).toHaveLength(0);
    });

    it('a model the gateway cannot serve: a not-found error naming the model, at once', async () => {
      const r = await run('Hello', { model: 'gpt-4o' });
      expect(expectRefusal(r, 404)).toContain('gpt-4o');
      // Claude Code tries a 404 once more without streaming; neither call is retried.
      expect(stack.captured.map((c) => c.status)).toEqual([404, 404]);
    });

    it('maxTurns: the run stops with error_max_turns after the turn it allows', async () => {
      const model = 'claude-sonnet-4-5';
      stack.emulator.enqueue(
        { model, toolCalls: [{ name: 'Bash', input: { command: 'echo hi', description: 'Say hi' } }] },
        { model, text: 'never reached' },
      );
      const r = await run('Run echo hi', { model, maxTurns: 1, allowedTools: ['Bash'] });
      expect(r.result?.subtype, diagnostics(r)).toBe('error_max_turns');
      expect(r.result?.usage.output_tokens).toBeGreaterThan(0);
      expect(stack.captured.map((c) => c.status)).toEqual([200]);
      expect(modelCalls(stack.emulator).map((c) => [c.status, c.aborted])).toEqual([[200, false]]);
    });

    it.each([
      ['Claude (InvokeModel)', 'claude-sonnet-4-5'],
      ['Qwen3 Coder (Converse)', 'qwen.qwen3-coder-480b-a35b-v1:0'],
    ])(
      'abortController mid-stream on %s: the call is recorded as interrupted, the gateway serves on',
      async (_, model) => {
        // A minute of text: only an abort ends this in time.
        stack.emulator.enqueue({ model, text: 'word '.repeat(600), chunkSize: 5, chunkDelayMs: 100 });
        const abortController = new AbortController();
        let abortedAt = 0;
        const r = await run('Talk for a while', {
          model,
          abortController,
          includePartialMessages: true,
          onMessage: (m: SDKMessage) => {
            if (!abortedAt && m.type === 'stream_event' && m.event.type === 'content_block_delta') {
              abortedAt = Date.now();
              abortController.abort();
            }
          },
        });
        expect(abortedAt, diagnostics(r)).toBeGreaterThan(0);
        expect(String(r.error)).toMatch(/aborted/i);
        expect(r.result).toBeUndefined();
        expect(Date.now() - abortedAt).toBeLessThan(10_000);

        // The gateway saw the client leave: Bedrock's call was cut and the usage record says so.
        const emulated = await waitFor(() => {
          const calls = modelCalls(stack.emulator);
          return calls.length === 1 && calls[0]!.aborted ? calls : undefined;
        });
        expect(emulated.map((c) => c.modelId)).toEqual([
          expect.stringContaining(model.replace(/^claude-/, '')),
        ]);
        const record = await waitFor(async () =>
          (await usageRecords()).find((g) => g.status === 499 && g.model === model),
        );
        expect(record).toMatchObject({ model, interrupted: 1, estimated: 1, errors: 1 });
        expect(record.output_tokens).toBeGreaterThan(0);

        stack.reset();
        stack.emulator.enqueue({ model, text: 'Still here.' });
        expectSuccess(await run('Are you there?', { model }), 'Still here.');
      },
    );

    it('abortController before the first byte (the model still silent): the call is cut and recorded as 499', async () => {
      const model = 'claude-sonnet-4-5';
      stack.emulator.enqueue({ model, text: 'Too late.', delayMs: 5_000 });
      const abortController = new AbortController();
      // Aborted once the gateway has called Bedrock, which has not answered yet.
      void waitFor(() => (modelCalls(stack.emulator).length > 0 ? true : undefined)).then(() =>
        setTimeout(() => abortController.abort(), 300),
      );
      const r = await run('Think hard first', { model, abortController });
      expect(String(r.error), diagnostics(r)).toMatch(/aborted/i);
      expect(r.elapsedMs).toBeLessThan(5_000);
      await waitFor(() => (modelCalls(stack.emulator)[0]?.aborted ? true : undefined));
      const record = await waitFor(async () =>
        (await usageRecords()).find((g) => g.status === 499 && g.output_tokens === 0),
      );
      // Nothing was streamed, but Bedrock had the whole prompt: it is billed as estimated (as the door
      // bills a stream cut that early), and counts as an error, not as a cut stream.
      expect(record).toMatchObject({ model, errors: 1, interrupted: 0, estimated: 1 });
      expect(record.input_tokens).toBeGreaterThan(0);
      expect(record.cost_usd).toBeGreaterThan(0);
    });

    it('interrupt() mid-stream in a streaming-input session: the call is recorded as interrupted, the next turn answers', async () => {
      const model = 'claude-sonnet-4-5';
      stack.emulator.enqueue(
        { model, text: 'word '.repeat(600), chunkSize: 5, chunkDelayMs: 100 },
        { model, text: 'Second answer.' },
      );
      let next!: () => void;
      const secondTurn = new Promise<void>((resolve) => {
        next = resolve;
      });
      const user = (content: string) =>
        ({ type: 'user', parent_tool_use_id: null, message: { role: 'user', content } }) as SDKUserMessage;
      async function* prompt(): AsyncIterable<SDKUserMessage> {
        yield user('Talk for a while');
        await secondTurn;
        yield user('Now be brief');
      }
      const session = query({
        prompt: prompt(),
        options: {
          model,
          cwd: home,
          env: sdkEnv(MASTER_KEY),
          persistSession: false,
          settingSources: [],
          includePartialMessages: true,
        },
      });
      const results: SDKResultMessage[] = [];
      let interrupted = false;
      for await (const m of session) {
        if (!interrupted && m.type === 'stream_event' && m.event.type === 'content_block_delta') {
          interrupted = true;
          await session.interrupt();
        }
        if (m.type !== 'result') continue;
        results.push(m);
        if (results.length === 1) next();
        else break;
      }
      expect(results.map((m) => [m.subtype, m.is_error])).toEqual([
        ['error_during_execution', true],
        ['success', false],
      ]);
      expect((results[1] as Json).result).toBe('Second answer.');
      expect(stack.captured.map((c) => c.status)).toEqual([200, 200]);
      const records = await waitFor(async () => {
        const all = (await usageRecords()).filter((g) => g.session === results[0]!.session_id);
        return all.length === 2 ? all : undefined;
      });
      expect(records.map((g) => [g.status, g.interrupted, g.estimated])).toEqual([
        [499, 1, 1],
        [200, 0, 0],
      ]);
    });

    it.each([
      ['Claude (InvokeModel)', 'claude-sonnet-4-5'],
      ['Qwen3 Coder (Converse)', 'qwen.qwen3-coder-480b-a35b-v1:0'],
    ])('outputFormat (a JSON schema) on %s: the structured answer comes back', async (_, model) => {
      stack.emulator.enqueue({
        model,
        toolCalls: [{ name: 'StructuredOutput', input: { answer: 'forty-two' } }],
      });
      const r = await run('What is the answer?', {
        model,
        outputFormat: {
          type: 'json_schema',
          schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
        },
      });
      expectSuccess(r, 'forty-two');
      expect((r.result as Json).structured_output).toEqual({ answer: 'forty-two' });
      expect(modelCalls(stack.emulator).map((c) => c.status)).toEqual([200]);
    });
  },
);

/**
 * The Bedrock-format door on a Claude model only bedrock-mantle serves (the emulator's Claude Opus 5.5,
 * Claude Code's default, which it names `us.anthropic.claude-opus-5-5` in Bedrock mode): the official
 * AWS SDK's InvokeModel and InvokeModelWithResponseStream get answers they read as usual, made by
 * mantle's Messages API (bare id, betas as a header, no `anthropic_version` in the body); usage records
 * carry mantle's counts; Converse is a clear ValidationException; CountTokens is an estimate; a model
 * the runtime serves still goes to InvokeModel unchanged; the operator's per-model path still wins.
 */

import {
  ConverseCommand,
  CountTokensCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ServiceUnavailableException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { doorClient, finishedUsage } from '../helpers/door.ts';
import { gatewayWithEmulator, storeKey, testConfig } from '../helpers/gateway.ts';

const OPUS = 'us.anthropic.claude-opus-5-5';
const BARE = 'anthropic.claude-opus-5-5';
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const USAGE = { inputTokens: 210, outputTokens: 12, cacheReadInputTokens: 30, cacheWriteInputTokens: 4 };

type Json = Record<string, unknown>;

const running = gatewayWithEmulator({ usageDrainMs: 50 });

const sdk = (token: string, endpoint = running.gateway.url) => doorClient(token, endpoint);

const usageOf = async (keyId: string) => (await finishedUsage(running.gateway.store, keyId))[0]!;

/** What Claude Code sends in Bedrock mode: Claude's body with Bedrock's version and the betas in it. */
const claudeBody = (text: string, extra: Json = {}) =>
  JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    anthropic_beta: ['interleaved-thinking-2025-05-14'],
    max_tokens: 100,
    messages: [{ role: 'user', content: text }],
    ...extra,
  });

const mantleCalls = () => running.emulator.requests.filter((r) => r.operation === 'MessagesApi');
const runtimeInvokes = () => running.emulator.requests.filter((r) => r.operation.startsWith('InvokeModel'));

describe('InvokeModel on a Claude model only bedrock-mantle serves', () => {
  it("answers through mantle's Messages API, in InvokeModel's shape, usage recorded", async () => {
    const { id, secret } = await storeKey(running.gateway.store);
    running.emulator.enqueue({ model: 'claude-opus-5-5', text: 'hello from mantle', usage: USAGE });
    const out = await sdk(secret).send(
      new InvokeModelCommand({ modelId: OPUS, contentType: 'application/json', body: claudeBody('hi') }),
    );
    const message = JSON.parse(Buffer.from(out.body).toString('utf8')) as Json;
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: OPUS,
      content: [{ type: 'text', text: 'hello from mantle' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 210, output_tokens: 12 },
    });
    expect(out.contentType).toBe('application/json');

    // mantle got a Messages API call: its bare id, the betas as a header, no InvokeModel-only fields.
    const [call] = mantleCalls();
    expect(call).toMatchObject({ host: 'mantle', modelId: BARE, status: 200 });
    expect(call!.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    const sent = call!.body as Json;
    expect(sent.anthropic_version).toBeUndefined();
    expect(sent.anthropic_beta).toBeUndefined();
    expect(sent.stream).toBeUndefined();
    expect(runtimeInvokes()).toHaveLength(0);

    expect(await usageOf(id)).toMatchObject({
      model: OPUS,
      resolvedModel: BARE,
      inputTokens: 210,
      outputTokens: 12,
      cacheReadInputTokens: 30,
      cacheWriteInputTokens: 4,
      status: 200,
      stream: false,
      door: 'bedrock',
    });
  });

  it('streams: each SSE event as an InvokeModel chunk the SDK decodes, final metrics on the last', async () => {
    const { id, secret } = await storeKey(running.gateway.store);
    running.emulator.enqueue({
      model: 'claude-opus-5-5',
      text: 'streamed from mantle',
      chunkSize: 4,
      usage: USAGE,
    });
    const out = await sdk(secret).send(
      new InvokeModelWithResponseStreamCommand({
        modelId: OPUS,
        contentType: 'application/json',
        body: claudeBody('stream please'),
      }),
    );
    const events: Json[] = [];
    for await (const part of out.body ?? []) {
      if (part.chunk?.bytes) events.push(JSON.parse(Buffer.from(part.chunk.bytes).toString('utf8')));
    }
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('message_start');
    expect(types.at(-2)).toBe('message_delta');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).not.toContain('ping');
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => (e.delta as { text?: string }).text ?? '')
      .join('');
    expect(text).toBe('streamed from mantle');
    expect((events[0]!.message as Json).model).toBe(OPUS);
    expect(events.at(-1)!['amazon-bedrock-invocationMetrics']).toMatchObject({
      inputTokenCount: 210,
      outputTokenCount: 12,
      cacheReadInputTokenCount: 30,
      cacheWriteInputTokenCount: 4,
    });

    const [call] = mantleCalls();
    expect(call).toMatchObject({ host: 'mantle', modelId: BARE, status: 200 });
    expect((call!.body as Json).stream).toBe(true);
    expect(runtimeInvokes()).toHaveLength(0);
    expect(await usageOf(id)).toMatchObject({
      inputTokens: 210,
      outputTokens: 12,
      status: 200,
      stream: true,
      door: 'bedrock',
    });
  });

  it("shapes Claude Code's body as /v1/messages does for mantle, saying so in x-abproxy-warnings", async () => {
    const { secret } = await storeKey(running.gateway.store);
    running.emulator.enqueue({ model: 'claude-opus-5-5', text: 'ok' });
    const client = sdk(secret);
    let warnings: string | undefined;
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        warnings = (result.response as { headers: Record<string, string> }).headers['x-abproxy-warnings'];
        return result;
      },
      { step: 'deserialize' },
    );
    // What Claude Code 2.1.33x sends Opus 5.5 in Bedrock mode, which Bedrock refuses as it is: a beta
    // Bedrock lacks, a mid-conversation system message; plus a strict tool the Messages API refuses.
    const body = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      anthropic_beta: ['interleaved-thinking-2025-05-14', 'thinking-token-count-2026-05-13'],
      max_tokens: 100,
      thinking: { type: 'adaptive', display: 'omitted' },
      output_config: { effort: 'medium' },
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'system', content: '<system-reminder>be brief</system-reminder>' },
        { role: 'user', content: 'again' },
      ],
      tools: [{ name: 'lookup', description: 'd', input_schema: { type: 'object' }, strict: true }],
    });
    const out = await client.send(new InvokeModelCommand({ modelId: OPUS, body }));
    expect(JSON.parse(Buffer.from(out.body).toString()).content.at(-1).text).toBe('ok');
    expect(warnings).toMatch(/strict/);
    expect(warnings).toMatch(/betas not sent to Bedrock: thinking-token-count-2026-05-13/);
    const [call] = mantleCalls();
    expect(call!.status).toBe(200);
    expect(call!.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    const sent = call!.body as { tools: Json[]; messages: Json[] };
    expect(sent.tools[0]!.strict).toBeUndefined();
    expect(sent.messages.map((m) => m.role)).not.toContain('system');
  });

  it('refuses a body that is not a Claude Messages body with a ValidationException naming the field', async () => {
    const { secret } = await storeKey(running.gateway.store);
    const err = await sdk(secret)
      .send(
        new InvokeModelCommand({
          modelId: OPUS,
          body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', messages: [] }),
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toMatch(/max_tokens/);
    expect(mantleCalls()).toHaveLength(0);
  });

  it('refuses a JSON schema (the Messages API takes none) with a ValidationException, as /v1/messages does', async () => {
    const { secret } = await storeKey(running.gateway.store);
    const format = { type: 'json_schema', schema: { type: 'object' } };
    const err = await sdk(secret)
      .send(new InvokeModelCommand({ modelId: OPUS, body: claudeBody('hi', { output_config: { format } }) }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toMatch(/output_config\.format: .*takes no structured outputs/);
    expect(mantleCalls()).toHaveLength(0);
  });

  it("mantle's refusal reaches the SDK as Bedrock's exception, before and inside a stream", async () => {
    const { secret } = await storeKey(running.gateway.store);
    running.emulator.enqueue({ model: 'claude-opus-5-5', error: { name: 'ServiceUnavailableException' } });
    const before = await sdk(secret)
      .send(new InvokeModelCommand({ modelId: OPUS, body: claudeBody('hi') }))
      .catch((e: unknown) => e);
    expect(before).toBeInstanceOf(ServiceUnavailableException);

    running.emulator.enqueue({
      model: 'claude-opus-5-5',
      text: 'cut short here',
      chunkSize: 3,
      errorAfterEvents: { events: 3, name: 'ServiceUnavailableException', message: 'mantle overloaded' },
    });
    const out = await sdk(secret).send(
      new InvokeModelWithResponseStreamCommand({ modelId: OPUS, body: claudeBody('hi') }),
    );
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const part of out.body ?? []) {
        if (part.chunk?.bytes) seen.push(String(JSON.parse(Buffer.from(part.chunk.bytes).toString()).type));
      }
    })().catch((e: unknown) => e);
    expect(seen[0]).toBe('message_start');
    expect(seen).not.toContain('message_stop');
    // The SDK raises the stream's exception event as Bedrock's own exception.
    expect(failure).toBeInstanceOf(ServiceUnavailableException);
    expect((failure as Error).message).toContain('mantle overloaded');
  });

  it('refuses a guardrail (the Messages API applies none) rather than answering without it', async () => {
    const { secret } = await storeKey(running.gateway.store);
    const err = await sdk(secret)
      .send(
        new InvokeModelCommand({
          modelId: OPUS,
          body: claudeBody('hi'),
          guardrailIdentifier: 'gr-1',
          guardrailVersion: '1',
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toMatch(/^Guardrails are not applied/);
    expect(mantleCalls()).toHaveLength(0);
  });

  it('Converse is refused with a ValidationException naming the operation; nothing is called', async () => {
    const { secret } = await storeKey(running.gateway.store);
    const err = await sdk(secret)
      .send(new ConverseCommand({ modelId: OPUS, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationException);
    expect((err as Error).message).toMatch(/^Converse is not available for us\.anthropic\.claude-opus-5-5/);
    expect(running.emulator.requests.filter((r) => r.operation !== 'ListMantleModels')).toHaveLength(0);
  });

  it('CountTokens on an InvokeModel body is an estimate, without a runtime call that can only fail', async () => {
    const { secret } = await storeKey(running.gateway.store);
    const out = await sdk(secret).send(
      new CountTokensCommand({
        modelId: OPUS,
        input: { invokeModel: { body: new TextEncoder().encode(claudeBody('how many tokens is this?')) } },
      }),
    );
    expect(out.inputTokens).toBeGreaterThan(0);
    expect(running.emulator.requests.filter((r) => r.operation !== 'ListMantleModels')).toHaveLength(0);
  });

  it.each([
    ['!!!', 'The invokeModel body is not valid base64'],
    ['aGk', 'The invokeModel body is not valid base64'],
    [Buffer.from('hi').toString('base64'), 'Invalid JSON in invokeModel body'],
    [Buffer.from('[1]').toString('base64'), 'The invokeModel body must be a JSON object'],
  ])(
    'CountTokens with the invokeModel body %j is a ValidationException saying what is wrong',
    async (body, words) => {
      const { secret } = await storeKey(running.gateway.store);
      const res = await fetch(`${running.gateway.url}/model/${OPUS}/count-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: { invokeModel: { body } } }),
      });
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toMatch(/^ValidationException/);
      expect(((await res.json()) as { message: string }).message).toContain(words);
    },
  );

  it('leaves a model the runtime serves on InvokeModel, body unchanged', async () => {
    const { secret } = await storeKey(running.gateway.store);
    running.emulator.enqueue({ text: 'from the runtime' });
    const out = await sdk(secret).send(new InvokeModelCommand({ modelId: SONNET, body: claudeBody('hi') }));
    expect(JSON.parse(Buffer.from(out.body).toString()).content[0].text).toBe('from the runtime');
    expect(runtimeInvokes().map((r) => [r.operation, r.modelId])).toEqual([['InvokeModel', SONNET]]);
    expect((runtimeInvokes()[0]!.body as Json).anthropic_version).toBe('bedrock-2023-05-31');
    expect(mantleCalls()).toHaveLength(0);
  });
});

describe("the operator's per-model path wins on the door too", () => {
  let pinned: RunningServer;
  beforeAll(async () => {
    pinned = await startServer(testConfig({ claudePaths: { '*opus-5-5*': 'invoke' } }));
  });
  afterAll(async () => {
    await pinned?.close();
  });

  it('forwards InvokeModel to the runtime as told (where Bedrock refuses it)', async () => {
    const { secret } = await storeKey(pinned.store);
    const err = await sdk(secret, pinned.url)
      .send(new InvokeModelCommand({ modelId: OPUS, body: claudeBody('hi') }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(runtimeInvokes().map((r) => r.modelId)).toEqual([OPUS]);
    expect(mantleCalls()).toHaveLength(0);
  });
});

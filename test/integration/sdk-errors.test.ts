/**
 * Conformance: every error class the Anthropic SDK has, as the gateway produces them — client mistakes,
 * auth, and each Bedrock fault — in both modes, plus mid-stream errors and client aborts.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { ClaudePath } from '../../src/config/settings.ts';
import { BEDROCK_ERRORS } from '../../src/upstream/aws-errors.ts';
import type { Operation } from '../emulator/server.ts';
import {
  ask,
  gatewayWithEmulator,
  MASTER_KEY,
  postMessages,
  send,
  startGateway,
} from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5-20250929';

const world = gatewayWithEmulator({ claudePath: 'converse' });

type ApiErr = InstanceType<typeof Anthropic.APIError>;

async function failure(promise: Promise<unknown>): Promise<ApiErr> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should have failed').toBeInstanceOf(Anthropic.APIError);
  return err as ApiErr;
}

function expectAnthropicShape(err: ApiErr, type: string): void {
  expect(err.error).toMatchObject({ type: 'error', error: { type, message: expect.any(String) } });
  expect(err.requestID).toMatch(/^req_/);
}

async function rawPost(body: string) {
  const res = await postMessages(world.gateway.url, body);
  return { res, json: (await res.json()) as { type: string; error: { type: string; message: string } } };
}

describe('client mistakes are 400s that name the field', () => {
  it('malformed JSON', async () => {
    const { res, json } = await rawPost('{"model": "x", "max_tokens": 10,');
    expect(res.status).toBe(400);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(json).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(json.error.message.toLowerCase()).toContain('json');
  });

  it('a body that is not an object', async () => {
    const { res, json } = await rawPost('[1,2,3]');
    expect(res.status).toBe(400);
    expect(json.error.type).toBe('invalid_request_error');
  });

  it.each([
    ['max_tokens missing', { model: QWEN, messages: ask('hi') }, 'max_tokens'],
    ['model missing', { max_tokens: 10, messages: ask('hi') }, 'model'],
    ['messages missing', { model: QWEN, max_tokens: 10 }, 'messages'],
    ['max_tokens a string', { model: QWEN, max_tokens: 'ten', messages: ask('hi') }, 'max_tokens'],
    ['max_tokens zero', { model: QWEN, max_tokens: 0, messages: ask('hi') }, 'max_tokens'],
    [
      'temperature out of range',
      { model: QWEN, max_tokens: 10, temperature: 3, messages: ask('hi') },
      'temperature',
    ],
    [
      'content a number',
      { model: QWEN, max_tokens: 10, messages: [{ role: 'user', content: 42 }] },
      'messages.0.content',
    ],
    [
      'bad role',
      { model: QWEN, max_tokens: 10, messages: [{ role: 'robot', content: 'x' }] },
      'messages.0.role',
    ],
    [
      'unknown block type',
      { model: QWEN, max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'hologram' }] }] },
      'messages.0.content.0',
    ],
    [
      'stop_sequences not a list',
      { model: QWEN, max_tokens: 10, stop_sequences: 'END', messages: ask('hi') },
      'stop_sequences',
    ],
    [
      'thinking budget missing',
      { model: QWEN, max_tokens: 10, thinking: { type: 'enabled' }, messages: ask('hi') },
      'thinking',
    ],
    [
      'tool without input_schema',
      { model: QWEN, max_tokens: 10, tools: [{ name: 'x' }], messages: ask('hi') },
      'tools.0.input_schema',
    ],
    [
      'unknown tool_choice',
      { model: QWEN, max_tokens: 10, tool_choice: { type: 'sometimes' }, messages: ask('hi') },
      'tool_choice',
    ],
  ])('%s', async (_label, body, field) => {
    const err = await failure(
      world.client.messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expectAnthropicShape(err, 'invalid_request_error');
    expect(err.message).toContain(field);
    expect(world.emulator.requests.filter((r) => r.operation.startsWith('Converse'))).toHaveLength(0);
  });

  it('the same mistakes in streaming mode are HTTP 400s, not SSE errors', async () => {
    const err = await failure(
      world.client.messages
        .stream({
          model: QWEN,
          max_tokens: 'ten',
          messages: ask('hi'),
        } as unknown as Anthropic.MessageStreamParams)
        .finalMessage(),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.message).toContain('max_tokens');
  });

  it('a tool_result without its tool_use is a 400 naming the block', async () => {
    const err = await failure(
      world.client.messages.create({
        model: QWEN,
        max_tokens: 10,
        messages: [
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_nowhere', content: 'x' }] },
        ],
      }),
    );
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.message).toContain('messages.0');
  });
});

describe('auth', () => {
  it('a wrong key is an AuthenticationError (both headers)', async () => {
    const wrong = new Anthropic({ baseURL: world.gateway.url, apiKey: 'nope', maxRetries: 0 });
    const err = await failure(wrong.messages.create({ model: QWEN, max_tokens: 10, messages: ask('hi') }));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expectAnthropicShape(err, 'authentication_error');
    const bearer = new Anthropic({
      baseURL: world.gateway.url,
      apiKey: null,
      authToken: 'nope',
      maxRetries: 0,
    });
    expect(await failure(bearer.models.list())).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(world.emulator.requests.filter((r) => r.operation.startsWith('Converse'))).toHaveLength(0);
  });

  it('a missing key is an AuthenticationError', async () => {
    const res = await fetch(`${world.gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: QWEN, max_tokens: 10, messages: ask('hi') }),
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
  });

  it('the key works from Authorization: Bearer too', async () => {
    const bearer = new Anthropic({
      baseURL: world.gateway.url,
      apiKey: null,
      authToken: MASTER_KEY,
      maxRetries: 0,
    });
    const message = await bearer.messages.create({ model: QWEN, max_tokens: 10, messages: ask('hi') });
    expect(message.content[0]).toMatchObject({ type: 'text' });
  });
});

describe('APIs the gateway does not serve (Message Batches, Files)', () => {
  it('are a 404 not_found_error naming the route, whatever the body, for every SDK call', async () => {
    const calls: [string, () => Promise<unknown>][] = [
      ['POST /v1/messages/batches', () => world.client.messages.batches.create({ requests: [] })],
      ['GET /v1/messages/batches', () => world.client.messages.batches.list()],
      ['GET /v1/files', () => world.client.beta.files.list()],
      // A multipart upload: it was a 415 telling the caller to send JSON, which no file upload can do.
      ['POST /v1/files', () => world.client.beta.files.upload({ file: new File(['hi'], 'a.txt') })],
    ];
    for (const [route, call] of calls) {
      const err = await failure(call());
      expect(err, route).toBeInstanceOf(Anthropic.NotFoundError);
      expectAnthropicShape(err, 'not_found_error');
      expect(err.message).toContain(route);
    }
  });
});

describe('models that do not exist', () => {
  it('an unknown Claude alias is a NotFoundError before Bedrock is called', async () => {
    const err = await failure(
      world.client.messages.create({ model: 'claude-nonexistent-9-9', max_tokens: 10, messages: ask('hi') }),
    );
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expectAnthropicShape(err, 'not_found_error');
    expect(err.message).toContain('claude-nonexistent-9-9');
    expect(world.emulator.requests.filter((r) => r.operation.startsWith('Converse'))).toHaveLength(0);
  });

  it('a Bedrock id Bedrock does not know is a 4xx, never a 5xx', async () => {
    const err = await failure(
      world.client.messages.create({ model: 'acme.unknown-model-v1:0', max_tokens: 10, messages: ask('hi') }),
    );
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
  });
});

describe('request size', () => {
  it('an oversized body is a 413 request_too_large', async () => {
    const small = await startGateway({ claudePath: 'converse', maxBodyBytes: 2048 });
    try {
      const err = await failure(
        small.client.messages.create({ model: QWEN, max_tokens: 10, messages: ask('x'.repeat(10_000)) }),
      );
      expect(err.status).toBe(413);
      expectAnthropicShape(err, 'request_too_large');
    } finally {
      await small.server.close();
    }
  });
});

/**
 * Where a model call goes: Converse (an open model, and Claude on ABPROXY_CLAUDE_PATH=converse), and
 * Claude on the `messages` and `mantle` paths (the emulator's `/anthropic/v1/messages` on the runtime
 * host and on the mantle host). The faults, stream failures and aborts hold on each.
 */
interface Target {
  label: string;
  claudePath: ClaudePath;
  /** The model of the fault cases (Qwen: Converse whatever the Claude path). */
  model: string;
  /** The model of the streaming abort (Claude, on its path). */
  streamModel: string;
  /** The emulator operation a call reaches. */
  operation(stream: boolean): Operation;
  /** A context overflow as Bedrock says it on that path, and how the client is told. */
  overflow: { message: string; told: RegExp };
}

const TARGETS: Target[] = [
  {
    label: 'Converse',
    claudePath: 'converse',
    model: QWEN,
    streamModel: CLAUDE,
    operation: (stream) => (stream ? 'ConverseStream' : 'Converse'),
    overflow: {
      message: 'Input is too long for requested model.',
      told: /prompt is too long: \d+ tokens > \d+ maximum/,
    },
  },
  ...(['messages', 'mantle'] as const).map(
    (claudePath): Target => ({
      label: `Claude path ${claudePath}`,
      claudePath,
      model: CLAUDE,
      streamModel: CLAUDE,
      operation: () => 'MessagesApi',
      overflow: {
        message: 'prompt is too long: 250000 tokens > 200000 maximum',
        told: /prompt is too long: 250000 tokens > 200000 maximum/,
      },
    }),
  ),
];

describe.each(TARGETS)('$label', (target) => {
  const world = gatewayWithEmulator({ claudePath: target.claudePath });
  const upstreamCall = (stream: boolean) =>
    world.emulator.requests.find((r) => r.operation === target.operation(stream));

  describe('Bedrock faults map to the table', () => {
    type ErrorClass = abstract new (...args: never[]) => InstanceType<typeof Anthropic.APIError>;
    const table: [string, number, string, ErrorClass, boolean][] = [
      ['ValidationException', 400, 'invalid_request_error', Anthropic.BadRequestError, false],
      ['AccessDeniedException', 403, 'permission_error', Anthropic.PermissionDeniedError, false],
      ['ResourceNotFoundException', 404, 'not_found_error', Anthropic.NotFoundError, false],
      ['ThrottlingException', 429, 'rate_limit_error', Anthropic.RateLimitError, true],
      ['ServiceQuotaExceededException', 429, 'rate_limit_error', Anthropic.RateLimitError, true],
      ['ModelNotReadyException', 529, 'overloaded_error', Anthropic.InternalServerError, true],
      ['ServiceUnavailableException', 529, 'overloaded_error', Anthropic.InternalServerError, true],
      ['ModelTimeoutException', 504, 'timeout_error', Anthropic.InternalServerError, false],
      ['InternalServerException', 500, 'api_error', Anthropic.InternalServerError, false],
      ['ModelErrorException', 500, 'api_error', Anthropic.InternalServerError, false],
    ];

    for (const stream of [false, true]) {
      const mode = stream ? 'stream' : 'non-stream';
      it.each(table)(`${mode}: %s → %i %s`, async (name, status, type, cls, retryAfter) => {
        world.emulator.enqueue({ error: { name, message: `scripted ${name}` } });
        const params = { model: target.model, max_tokens: 10, messages: ask('hi') };
        const err = await failure(send(world.client, params, stream));
        expect(err).toBeInstanceOf(cls);
        expect(err.status).toBe(status);
        expectAnthropicShape(err, type);
        expect(err.error).toMatchObject({ error: { message: `scripted ${name}` } });
        if (retryAfter) expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
      });
    }

    it('Bedrock context overflow is reworded so Claude Code compacts', async () => {
      world.emulator.enqueue({ error: { name: 'ValidationException', message: target.overflow.message } });
      const err = await failure(
        world.client.messages.create({ model: target.model, max_tokens: 10, messages: ask('hi') }),
      );
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.message).toMatch(target.overflow.told);
    });
  });

  describe('streaming failures', () => {
    it.each(['ThrottlingException', 'ServiceUnavailableException'])(
      '%s before any event is an HTTP error with its status (clients retry those), not a 200 and an error event',
      async (name) => {
        world.emulator.enqueue({
          text: 'never sent',
          errorAfterEvents: { events: 0, name, message: 'slow down' },
        });
        const res = await fetch(`${world.gateway.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ model: target.model, max_tokens: 100, stream: true, messages: ask('hi') }),
        });
        expect(res.status).toBe(BEDROCK_ERRORS[name]!.status);
        expect(res.headers.get('content-type')).toMatch(/^application\/json/);
        expect(res.headers.get('request-id')).toMatch(/^req_/);
        expect(await res.json()).toMatchObject({
          type: 'error',
          error: { type: BEDROCK_ERRORS[name]!.type },
        });
        // The SDK's stream helper sees the HTTP error too.
        world.emulator.enqueue({ text: 'x', errorAfterEvents: { events: 0, name } });
        const err = await failure(
          world.client.messages
            .stream({ model: target.model, max_tokens: 10, messages: ask('hi') })
            .finalMessage(),
        );
        expect(err.status).toBe(BEDROCK_ERRORS[name]!.status);
      },
    );

    it.each(['ThrottlingException', 'ModelTimeoutException', 'ServiceUnavailableException'])(
      '%s after the stream began is an SSE error event of the fault table type',
      async (name) => {
        world.emulator.enqueue({
          text: 'this answer breaks in the middle',
          chunkSize: 3,
          errorAfterEvents: { events: 4, name, message: 'slow down' },
        });
        const res = await fetch(`${world.gateway.url}/v1/messages`, {
          method: 'POST',
          headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ model: target.model, max_tokens: 100, stream: true, messages: ask('hi') }),
        });
        expect(res.status).toBe(200);
        const text = await res.text();
        const frames = text.split('\n\n').filter(Boolean);
        const last = frames.at(-1)!;
        expect(last).toMatch(/^event: error\n/);
        const data = JSON.parse(
          last
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        );
        expect(data).toMatchObject({ type: 'error', error: { type: BEDROCK_ERRORS[name]!.type } });
        expect(text).not.toContain('event: message_stop');
      },
    );

    it('the SDK surfaces a mid-stream error as an APIError after the text it had', async () => {
      world.emulator.enqueue({
        text: 'abcdefghijklmnopqrstuvwxyz',
        chunkSize: 2,
        errorAfterEvents: { events: 6, name: 'ModelStreamErrorException', message: 'model crashed' },
      });
      const stream = world.client.messages.stream({
        model: target.model,
        max_tokens: 100,
        messages: ask('hi'),
      });
      const seen: string[] = [];
      stream.on('text', (t) => seen.push(t));
      const err = await stream.finalMessage().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(seen.join('')).not.toBe('');
    });

    it('a client abort cancels the upstream call (non-stream too)', async () => {
      world.emulator.enqueue({ text: 'late', delayMs: 1_000 });
      const controller = new AbortController();
      const pending = world.client.messages.create(
        { model: target.model, max_tokens: 10, messages: ask('hi') },
        { signal: controller.signal },
      );
      await expect.poll(() => upstreamCall(false) !== undefined, { timeout: 2000 }).toBe(true);
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
      await expect.poll(() => upstreamCall(false)?.aborted, { timeout: 3000 }).toBe(true);
    });

    it('a client abort mid-stream cancels the upstream stream', async () => {
      world.emulator.enqueue({ text: 'tick '.repeat(300), chunkSize: 5, chunkDelayMs: 10 });
      const controller = new AbortController();
      const stream = world.client.messages.stream(
        { model: target.streamModel, max_tokens: 2000, messages: ask('hi') },
        { signal: controller.signal },
      );
      await new Promise<void>((resolve) => stream.once('text', () => resolve()));
      controller.abort();
      await stream.finalMessage().catch(() => undefined);
      await expect.poll(() => upstreamCall(true)?.aborted, { timeout: 3000 }).toBe(true);
    });
  });
});

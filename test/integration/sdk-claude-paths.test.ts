/**
 * Conformance on the `messages` and `mantle` Claude paths: the SDK suite's Claude cases (sdk-*.test.ts
 * run them on Converse; claude-messages-api.test.ts covers what reaches Bedrock) asserted as a client
 * sees them — stop reasons, every fault of the table before and inside a stream, aborts, the echoed
 * model name, media, caching, clamping and a parallel tool loop — against the emulator's
 * `/anthropic/v1/messages` on the runtime host and on the mantle host.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import type { ClaudePath } from '../../src/config/settings.ts';
import { BEDROCK_ERRORS } from '../../src/upstream/aws-errors.ts';
import {
  ask,
  askWith,
  createAndStream,
  gatewayWithEmulator,
  MASTER_KEY,
  PNG,
  postMessages,
  send,
} from '../helpers/gateway.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const PDF_BASE64 = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n').toString('base64');

type ApiErr = InstanceType<typeof Anthropic.APIError>;
type ErrorClass = abstract new (...args: never[]) => ApiErr;

async function failure(promise: Promise<unknown>): Promise<ApiErr> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the call should have failed').toBeInstanceOf(Anthropic.APIError);
  return err as ApiErr;
}

describe.each(['messages', 'mantle'] as const)('ABPROXY_CLAUDE_PATH=%s', (path) => {
  const world = gatewayWithEmulator({ claudePath: path as ClaudePath });
  const apiCall = () => world.emulator.requests.find((r) => r.operation === 'MessagesApi');

  describe('stop reasons', () => {
    const table: [string, Anthropic.StopReason][] = [
      ['end_turn', 'end_turn'],
      ['max_tokens', 'max_tokens'],
      ['stop_sequence', 'stop_sequence'],
      ['guardrail_intervened', 'refusal'],
      ['model_context_window_exceeded', 'model_context_window_exceeded'],
    ];
    for (const stream of [false, true]) {
      const mode = stream ? 'stream' : 'non-stream';
      it.each(table)(`${mode}: Bedrock %s → %s`, async (bedrock, anthropic) => {
        world.emulator.enqueue({ text: 'some text', stopReason: bedrock });
        const params = { model: CLAUDE, max_tokens: 100, stop_sequences: ['STOP'], messages: ask('hi') };
        const message = await send(world.client, params, stream);
        expect(message.stop_reason).toBe(anthropic);
        if (bedrock === 'stop_sequence') expect(message.stop_sequence).toBe('STOP');
      });
    }
  });

  describe('Bedrock faults map to the table', () => {
    const table: [string, number, string, ErrorClass, boolean][] = [
      ['ValidationException', 400, 'invalid_request_error', Anthropic.BadRequestError, false],
      ['AccessDeniedException', 403, 'permission_error', Anthropic.PermissionDeniedError, false],
      ['ResourceNotFoundException', 404, 'not_found_error', Anthropic.NotFoundError, false],
      ['ThrottlingException', 429, 'rate_limit_error', Anthropic.RateLimitError, true],
      ['ServiceQuotaExceededException', 429, 'rate_limit_error', Anthropic.RateLimitError, true],
      ['ModelNotReadyException', 529, 'overloaded_error', Anthropic.InternalServerError, true],
      ['ModelTimeoutException', 504, 'timeout_error', Anthropic.InternalServerError, false],
      ['InternalServerException', 500, 'api_error', Anthropic.InternalServerError, false],
    ];
    for (const stream of [false, true]) {
      const mode = stream ? 'stream' : 'non-stream';
      it.each(table)(`${mode}: %s → %i %s`, async (name, status, type, cls, retryAfter) => {
        world.emulator.enqueue({ error: { name, message: `scripted ${name}` } });
        const err = await failure(
          send(world.client, { model: CLAUDE, max_tokens: 10, messages: ask('hi') }, stream),
        );
        expect(err).toBeInstanceOf(cls);
        expect(err.status).toBe(status);
        expect(err.error).toMatchObject({ type: 'error', error: { type, message: `scripted ${name}` } });
        if (retryAfter) expect(Number(err.headers?.get('retry-after'))).toBeGreaterThan(0);
      });
    }

    it('context overflow is reworded so Claude Code compacts', async () => {
      world.emulator.enqueue({
        error: { name: 'ValidationException', message: 'prompt is too long: 250000 tokens > 200000 maximum' },
      });
      const err = await failure(
        world.client.messages.create({ model: CLAUDE, max_tokens: 10, messages: ask('hi') }),
      );
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.message).toMatch(/prompt is too long: 250000 tokens > 200000 maximum/);
    });
  });

  describe('streaming failures', () => {
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
          body: JSON.stringify({ model: CLAUDE, max_tokens: 100, stream: true, messages: ask('hi') }),
        });
        expect(res.status).toBe(200);
        const text = await res.text();
        const last = text.split('\n\n').filter(Boolean).at(-1)!;
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
      const stream = world.client.messages.stream({ model: CLAUDE, max_tokens: 100, messages: ask('hi') });
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
        { model: CLAUDE, max_tokens: 10, messages: ask('hi') },
        { signal: controller.signal },
      );
      await expect.poll(() => apiCall() !== undefined, { timeout: 2000 }).toBe(true);
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(Anthropic.APIUserAbortError);
      await expect.poll(() => apiCall()?.aborted, { timeout: 3000 }).toBe(true);
    });

    it('a client abort mid-stream cancels the upstream stream', async () => {
      world.emulator.enqueue({ text: 'tick '.repeat(300), chunkSize: 5, chunkDelayMs: 10 });
      const controller = new AbortController();
      const stream = world.client.messages.stream(
        { model: CLAUDE, max_tokens: 2000, messages: ask('hi') },
        { signal: controller.signal },
      );
      await new Promise<void>((resolve) => stream.once('text', () => resolve()));
      controller.abort();
      await stream.finalMessage().catch(() => undefined);
      await expect.poll(() => apiCall()?.aborted, { timeout: 3000 }).toBe(true);
    });
  });

  it.each([
    ['a Claude alias', CLAUDE],
    ['a Claude alias without a date', 'claude-sonnet-4-5'],
  ])('the model name is echoed as the client sent it: %s', async (_label, model) => {
    const [created, streamed] = await createAndStream(world.client, {
      model,
      max_tokens: 20,
      messages: ask('hi'),
    });
    expect([created.model, streamed.model]).toEqual([model, model]);
  });

  it('an image and documents reach Claude as Anthropic blocks', async () => {
    const message = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 64,
      messages: askWith(
        PNG,
        {
          type: 'document',
          title: 'report.pdf',
          source: { type: 'base64', media_type: 'application/pdf', data: PDF_BASE64 },
        },
        { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'line one' } },
        { type: 'text', text: 'Describe them.' },
      ),
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'Echo: Describe them.' });
    const content = (apiCall()!.body as { messages: { content: { type: string }[] }[] }).messages[0]!.content;
    expect(content.map((b) => b.type)).toEqual(['image', 'document', 'document', 'text']);
  });

  it('a real prompt-cache round trip reports creation, then read', async () => {
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'Long stable instructions. '.repeat(200), cache_control: { type: 'ephemeral' } },
    ];
    const first = await world.client.messages.create({
      model: CLAUDE,
      max_tokens: 50,
      system,
      messages: ask('q1'),
    });
    const second = await world.client.messages
      .stream({ model: CLAUDE, max_tokens: 50, system, messages: ask('q2') })
      .finalMessage();
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
    expect(second.usage.cache_creation_input_tokens).toBe(0);
  });

  it('clamps max_tokens above the model limit instead of failing, and says so', async () => {
    // The SDK itself refuses so large a non-streaming max_tokens: a plain client sends it.
    const res = await postMessages(
      world.gateway.url,
      JSON.stringify({ model: CLAUDE, max_tokens: 1_000_000, messages: ask('hi') }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-abproxy-warnings')).toContain('clamped to 64000');
    expect((apiCall()!.body as { max_tokens: number }).max_tokens).toBe(64_000);
  });

  it('runs a tool loop with parallel calls answered in one user turn (stream)', async () => {
    const weather: Anthropic.Tool = {
      name: 'get_weather',
      input_schema: { type: 'object', properties: { city: { type: 'string' } } },
    };
    const clock: Anthropic.Tool = { name: 'get_time', input_schema: { type: 'object', properties: {} } };
    const question: Anthropic.MessageParam = { role: 'user', content: 'weather and time in Rome?' };
    world.emulator.enqueue({
      toolCalls: [
        { name: 'get_weather', input: { city: 'Rome' } },
        { name: 'get_time', input: {} },
      ],
      chunkSize: 2,
    });
    const first = await world.client.messages
      .stream({ model: CLAUDE, max_tokens: 200, tools: [weather, clock], messages: [question] })
      .finalMessage();
    const uses = first.content.filter((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock[];
    expect(uses.map((u) => [u.name, u.input])).toEqual([
      ['get_weather', { city: 'Rome' }],
      ['get_time', {}],
    ]);
    world.emulator.enqueue({ text: 'done' });
    const second = await world.client.messages
      .stream({
        model: CLAUDE,
        max_tokens: 200,
        tools: [weather, clock],
        messages: [
          question,
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: uses[1]!.id, content: '12:00' },
              { type: 'tool_result', tool_use_id: uses[0]!.id, content: 'rainy' },
              { type: 'text', text: 'here you go' },
            ],
          },
        ],
      })
      .finalMessage();
    expect(second.content[0]).toMatchObject({ type: 'text', text: 'done' });
  });
});

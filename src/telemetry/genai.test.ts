import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../anthropic/types.ts';
import type { OutgoingEvent } from '../translate/stream-translator.ts';
import {
  bounded,
  completionText,
  deltaText,
  isTracedPath,
  promptText,
  requestAttributes,
  responseAttributes,
  routeOf,
  stopReasonOf,
  systemText,
} from './genai.ts';
import { tracesUrl } from './tracing.ts';

const request: MessagesRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 512,
  temperature: 0.2,
  top_p: 0.9,
  stop_sequences: ['END'],
  system: 'be brief',
  stream: true,
  tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
  messages: [{ role: 'user', content: 'what is the weather in Paris?' }],
};

describe('GenAI attributes', () => {
  it('maps the request', () => {
    expect(requestAttributes(request)).toEqual({
      'gen_ai.request.max_tokens': 512,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.request.stop_sequences': ['END'],
      'abproxy.request.tool_count': 1,
    });
  });

  it('leaves out what the request does not set, and never its text', () => {
    const attributes = requestAttributes({ model: 'm', max_tokens: 1, messages: request.messages });
    expect(Object.keys(attributes)).not.toContain('gen_ai.request.temperature');
    expect(JSON.stringify(attributes)).not.toContain('Paris');
  });

  it('maps the answer', () => {
    expect(
      responseAttributes({
        model: 'us.anthropic.x',
        inputTokens: 10,
        outputTokens: 3,
        stopReason: 'tool_use',
      }),
    ).toEqual({
      'gen_ai.response.model': 'us.anthropic.x',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['tool_use'],
    });
    expect(responseAttributes({ stopReason: null })).toEqual({});
  });
});

describe('content text', () => {
  it('bounds long text and says how much was cut', () => {
    expect(bounded('abcdef', 4)).toBe('abcd… [2 more characters]');
    expect(bounded('abc', 4)).toBe('abc');
  });

  it('the prompt is the messages in the conventions’ shape, the system prompt apart', () => {
    expect(JSON.parse(promptText(request))).toEqual([
      { role: 'user', parts: [{ type: 'text', content: 'what is the weather in Paris?' }] },
    ]);
    expect(JSON.parse(systemText(request)!)).toEqual([{ type: 'text', content: 'be brief' }]);
    expect(promptText(request, 10)).toMatch(/^.{10}… \[\d+ more characters\]$/);
  });

  it('the completion is the text blocks and tool calls, with the finish reason', () => {
    expect(
      JSON.parse(
        completionText(
          [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 't', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'thinking', thinking: 'hidden' },
          ],
          'tool_use',
        ),
      ),
    ).toEqual([
      {
        role: 'assistant',
        parts: [
          { type: 'text', content: 'Let me look.' },
          { type: 'tool_call', id: 't', name: 'get_weather', arguments: { city: 'Paris' } },
        ],
        finish_reason: 'tool_use',
      },
    ]);
  });
});

describe('stream events', () => {
  const frame = (type: string, data: object) => ({
    type: type as 'message_delta',
    frame: `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`,
  });

  it('reads the stop reason from built events and from formatted frames', () => {
    expect(
      stopReasonOf({
        type: 'message_delta',
        delta: { stop_reason: 'max_tokens', stop_sequence: null },
        usage: { output_tokens: 1 },
      } as unknown as OutgoingEvent),
    ).toBe('max_tokens');
    expect(
      stopReasonOf(frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' } })),
    ).toBe('end_turn');
    expect(stopReasonOf(frame('message_stop', { type: 'message_stop' }))).toBeUndefined();
  });

  it('reads the text of deltas', () => {
    const delta = (d: object): OutgoingEvent => ({
      type: 'content_block_delta',
      frame: `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: d })}\n\n`,
    });
    expect(deltaText(delta({ type: 'text_delta', text: 'hi' }))).toBe('hi');
    expect(deltaText(delta({ type: 'input_json_delta', partial_json: '{"a"' }))).toBe('{"a"');
    expect(deltaText(delta({ type: 'signature_delta', signature: 'x' }))).toBeUndefined();
    expect(
      deltaText({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'built' } }),
    ).toBe('built');
  });
});

describe('routes and switches', () => {
  it('keeps model ids out of span names', () => {
    expect(routeOf('/v1/messages')).toBe('/v1/messages');
    expect(routeOf('/model/us.anthropic.claude-x/invoke-with-response-stream')).toBe(
      '/model/{modelId}/invoke-with-response-stream',
    );
    expect(routeOf('/v1/models/claude-x')).toBe('/v1/models/{id}');
    // A client's made-up path is not a span name: the set of names is closed.
    expect(routeOf(`/model/x/${'q'.repeat(6000)}`)).toBe('/model/{modelId}/{operation}');
    expect(routeOf('/model/x')).toBe('/model/{modelId}/{operation}');
    expect(routeOf(`/v1/${'z'.repeat(6000)}`)).toBe('/v1/{unknown}');
    expect(routeOf('/v1/messages/')).toBe('/v1/messages');
    expect(routeOf('/v1/messages/count_tokens')).toBe('/v1/messages/count_tokens');
    expect(isTracedPath('/v1/messages/count_tokens')).toBe(true);
    expect(isTracedPath('/model/x/converse')).toBe(true);
    expect(isTracedPath('/health')).toBe(false);
    expect(isTracedPath('/admin/api/keys')).toBe(false);
  });

  const off = {
    otelSdkDisabled: false,
    otelTracesExporter: 'otlp' as const,
    otelEndpoint: undefined,
    otelTracesEndpoint: undefined,
  };
  it('is on only with an endpoint, and the traces endpoint wins as is', () => {
    const base = off as Parameters<typeof tracesUrl>[0];
    expect(tracesUrl(base)).toBeUndefined();
    expect(tracesUrl({ ...base, otelEndpoint: 'http://c:4318' })).toBe('http://c:4318/v1/traces');
    expect(tracesUrl({ ...base, otelEndpoint: 'http://c:4318', otelTracesEndpoint: 'http://t/x' })).toBe(
      'http://t/x',
    );
    expect(tracesUrl({ ...base, otelEndpoint: 'http://c:4318', otelSdkDisabled: true })).toBeUndefined();
    expect(tracesUrl({ ...base, otelEndpoint: 'http://c:4318', otelTracesExporter: 'none' })).toBeUndefined();
  });
});

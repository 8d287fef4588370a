/**
 * The `mantle` Claude path against a misbehaving bedrock-mantle host (a plain HTTP server standing in
 * for it, since the emulator answers correctly): a 200 whose body is not a message, an `event: error`
 * mid-stream, SSE with CRLF line ends written a byte at a time. The client gets an Anthropic-shaped
 * error naming the fault (never the catch-all "Internal server error" of a crash) or the stream as sent.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY } from '../helpers/gateway.ts';

let answer: (res: ServerResponse) => void | Promise<void> = (res) => {
  res.end();
};
let mantle: Server;
let mantleUrl = '';

beforeAll(async () => {
  mantle = createServer((req, res) => {
    req.resume();
    req.on('end', () => void answer(res));
  });
  await new Promise<void>((resolve) => mantle.listen(0, '127.0.0.1', resolve));
  mantleUrl = `http://127.0.0.1:${(mantle.address() as AddressInfo).port}`;
});
afterAll(async () => {
  mantle.closeAllConnections();
  await new Promise((resolve) => mantle.close(resolve));
});

// The endpoint is read when the gateway starts, after beforeAll above has run.
const world = gatewayWithEmulator({
  claudePath: 'mantle',
  get mantleEndpoint() {
    return mantleUrl;
  },
} as never);

async function ask(stream: boolean) {
  const res = await fetch(`${world.gateway.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 20,
      stream,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  return { status: res.status, text: await res.text() };
}

const sse = (type: string, data: object) => `event: ${type}\r\ndata: ${JSON.stringify(data)}\r\n\r\n`;
const MESSAGE = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'x',
  content: [],
  stop_reason: null,
  usage: { input_tokens: 3, output_tokens: 1 },
};

describe('a misbehaving mantle host', () => {
  for (const body of ['not json', 'null', '[]', '{"type":"mess', '']) {
    it(`a 200 JSON answer of ${JSON.stringify(body)}: the named api_error, not a crash`, async () => {
      answer = (res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      };
      const { status, text } = await ask(false);
      // Anthropic's api_error for a bad upstream answer, named; not the catch-all of a crash.
      expect(JSON.parse(text).error).toEqual({
        type: 'api_error',
        message: 'Bedrock returned a response that is not an Anthropic message',
      });
      // 502, as a malformed Converse or InvokeModel answer is (the fault table's UpstreamAnswerMalformed).
      expect(status).toBe(502);
    });
  }

  it('CRLF SSE written a byte at a time reaches the client whole', { timeout: 60_000 }, async () => {
    const all =
      sse('message_start', { type: 'message_start', message: MESSAGE }) +
      sse('content_block_start', {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'text', text: '' },
      }) +
      sse('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: 'hé' },
      }) +
      sse('content_block_stop', { type: 'content_block_stop', index: 0 }) +
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn' },
        usage: { output_tokens: 2 },
      }) +
      sse('message_stop', { type: 'message_stop' });
    answer = async (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const byte of Buffer.from(all)) {
        res.write(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    };
    const { status, text } = await ask(true);
    expect(status).toBe(200);
    expect(text).toContain('event: message_stop');
    expect(text).not.toContain('event: error');
    expect(text).toContain('hé');
  });

  it('an event: error mid-stream reaches the client as an Anthropic error event after what came before', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse('message_start', { type: 'message_start', message: MESSAGE }));
      res.end(
        sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) +
          sse('message_stop', { type: 'message_stop' }),
      );
    };
    const { status, text } = await ask(true);
    expect(status).toBe(200);
    expect(text).toContain('event: message_start');
    expect(text).toContain('event: error');
    expect(text).toContain('overloaded_error');
    expect(text).not.toContain('event: message_stop');
  });
});

/**
 * The translated stream must fold into a valid message in the real Anthropic SDK (MessageStream's
 * accumulator), and that message must equal the non-streaming translation of the same Bedrock answer.
 * A tiny loopback server replays the SSE, cut into 7-byte chunks so multi-byte characters are split.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import type {
  ContentBlock as BedrockContentBlock,
  ConverseCommandOutput,
  ConverseStreamOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fixtureCases,
  fixtureContext,
  loadFixture,
  renderSse,
} from '../../test/fixtures/converse-stream/index.ts';
import { fromConverseResponse } from './from-converse.ts';
import { verifyThinking } from './thinking-signature.ts';

let server: Server;
let client: Anthropic;

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = String(req.headers['x-fixture-case']);
    const bytes = Buffer.from(renderSse(loadFixture(name)), 'utf8');
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_test' });
    for (let i = 0; i < bytes.length; i += 7) res.write(bytes.subarray(i, i + 7));
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  client = new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: 'test-key', maxRetries: 0 });
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

async function finalMessage(name: string): Promise<Anthropic.Message> {
  const stream = client.messages.stream(
    { model: 'claude-sonnet-4-5', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] },
    { headers: { 'x-fixture-case': name } },
  );
  // parsed_output is the SDK's own addition (structured outputs), not something the gateway sent.
  const { parsed_output: _parsed, ...message } = (await stream.finalMessage()) as Anthropic.Message & {
    parsed_output?: unknown;
  };
  return message as Anthropic.Message;
}

/** Folds stream events into the equivalent non-streaming Converse answer (independent of the translator). */
function aggregate(events: ConverseStreamOutput[]): ConverseCommandOutput {
  type Acc = {
    text: string;
    tool?: { id: string; name: string; json: string };
    reasoning?: string;
    signature?: string;
    redacted?: Uint8Array[];
  };
  const blocks = new Map<number, Acc>();
  const at = (i: number | undefined): Acc => {
    const key = i ?? 0;
    if (!blocks.has(key)) blocks.set(key, { text: '' });
    return blocks.get(key) as Acc;
  };
  const out: ConverseCommandOutput = {
    output: undefined,
    stopReason: undefined,
    usage: undefined,
    metrics: undefined,
    $metadata: {},
  };
  for (const event of events) {
    if (event.contentBlockStart?.start?.toolUse) {
      const { toolUseId = '', name = '' } = event.contentBlockStart.start.toolUse;
      at(event.contentBlockStart.contentBlockIndex).tool = { id: toolUseId, name, json: '' };
    }
    const delta = event.contentBlockDelta?.delta;
    const acc = at(event.contentBlockDelta?.contentBlockIndex);
    if (delta?.text !== undefined) acc.text += delta.text;
    if (delta?.toolUse && acc.tool) acc.tool.json += delta.toolUse.input ?? '';
    if (delta?.reasoningContent?.text !== undefined)
      acc.reasoning = (acc.reasoning ?? '') + delta.reasoningContent.text;
    if (delta?.reasoningContent?.signature !== undefined)
      acc.signature = (acc.signature ?? '') + delta.reasoningContent.signature;
    if (delta?.reasoningContent?.redactedContent) {
      acc.redacted = [...(acc.redacted ?? []), delta.reasoningContent.redactedContent];
    }
    if (event.messageStop) {
      out.stopReason = event.messageStop.stopReason;
      const seq = (
        event.messageStop.additionalModelResponseFields as { delta?: { stop_sequence?: string } } | undefined
      )?.delta?.stop_sequence;
      if (seq !== undefined) out.additionalModelResponseFields = { stop_sequence: seq };
    }
    if (event.metadata) out.usage = event.metadata.usage;
  }
  const content: BedrockContentBlock[] = [];
  for (const [, acc] of [...blocks].sort(([a], [b]) => a - b)) {
    if (acc.tool)
      content.push({
        toolUse: { toolUseId: acc.tool.id, name: acc.tool.name, input: JSON.parse(acc.tool.json || '{}') },
      });
    else if (acc.redacted)
      content.push({ reasoningContent: { redactedContent: Buffer.concat(acc.redacted) } });
    else if (acc.reasoning !== undefined)
      content.push({
        reasoningContent: { reasoningText: { text: acc.reasoning, signature: acc.signature } },
      });
    else if (acc.text !== '') content.push({ text: acc.text });
  }
  out.output = { message: { role: 'assistant', content } };
  return out;
}

describe('translated stream through the Anthropic SDK accumulator', () => {
  it.each(fixtureCases())('%s folds into the same message as the non-streaming translation', async (name) => {
    const events = loadFixture(name);
    const message = await finalMessage(name);
    const expected = fromConverseResponse(aggregate(events), fixtureContext());
    if (name === 'metadata-missing') {
      // No usage from Bedrock: the stream reports its estimate instead of zeros.
      expect(message.usage.input_tokens).toBe(fixtureContext().inputTokensEstimate);
      expect(message.usage.output_tokens).toBeGreaterThan(0);
      expect({ ...message, usage: expected.usage }).toEqual(expected);
    } else {
      expect(message).toEqual(expected);
    }
  });

  it('reports Bedrock usage exactly, cache tokens included', async () => {
    const message = await finalMessage('cache-usage');
    expect(message.usage).toMatchObject({
      input_tokens: 9,
      output_tokens: 4,
      cache_read_input_tokens: 4096,
      cache_creation_input_tokens: 2048,
    });
  });

  it('round-trips multi-byte text split across network chunks', async () => {
    const message = await finalMessage('multibyte-text');
    expect(message.content).toEqual([{ type: 'text', text: 'こんにちは、世界！ 👋🏽 你好 🇫🇷 café' }]);
  });

  it('gives open-model reasoning a gateway signature the gateway accepts back', async () => {
    const message = await finalMessage('reasoning-open-model');
    const [thinking] = message.content;
    expect(thinking?.type).toBe('thinking');
    if (thinking?.type !== 'thinking') return;
    expect(verifyThinking('golden-secret', thinking.thinking, thinking.signature)).toBe(true);
    expect(message.content[1]).toEqual({ type: 'text', text: '17 × 3 = 51' });
  });

  it('restores the client tool name and parses fragmented tool input', async () => {
    const message = await finalMessage('tool-call-fragmented');
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[1]).toEqual({
      type: 'tool_use',
      id: 'tooluse_kZJMlvQmRJ6eAyJE5GIl7Q',
      name: 'mcp__fs.read_file',
      input: { path: '/etc/hosts', limit: 20 },
    });
  });
});

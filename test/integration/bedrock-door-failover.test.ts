/**
 * The Bedrock-format door behind several upstreams: a throttled primary hands the call to the
 * secondary before the first byte, for a passed-through stream as for any other call.
 */
import { ConverseStreamCommand, CountTokensCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import { startEmulator } from '../emulator/server.ts';
import { doorClient } from '../helpers/door.ts';
import { type Emulator, MASTER_KEY, setEmulatorCredentials, testConfig } from '../helpers/gateway.ts';

const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

let primary: Emulator;
let secondary: Emulator;
let gateway: RunningServer;

beforeAll(async () => {
  primary = await startEmulator({ port: 0 });
  secondary = await startEmulator({ port: 0 });
  setEmulatorCredentials();
  const upstreams = parseUpstreams(
    [
      { name: 'primary', region: 'us-east-1', endpoint: primary.url, controlEndpoint: primary.url },
      { name: 'secondary', region: 'us-east-1', endpoint: secondary.url, controlEndpoint: secondary.url },
    ],
    'ABPROXY_UPSTREAMS',
  );
  gateway = await startServer(testConfig({ upstreams }));
});
afterAll(async () => {
  await gateway?.close();
  await primary?.close();
  await secondary?.close();
});

const client = () => doorClient(MASTER_KEY, gateway.url);

describe('the door behind a pool', () => {
  it('a throttled primary: the stream comes from the secondary, as it sent it', async () => {
    primary.enqueue({ error: { name: 'ThrottlingException', message: 'slow down', retryAfter: 1 } });
    secondary.enqueue({ text: 'from the secondary', chunkSize: 4 });
    const out = await client().send(
      new ConverseStreamCommand({ modelId: QWEN, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
    );
    let text = '';
    for await (const event of out.stream!) text += event.contentBlockDelta?.delta?.text ?? '';
    expect(text).toBe('from the secondary');
    expect(primary.requests.filter((r) => r.operation === 'ConverseStream')).toHaveLength(1);
    expect(secondary.requests.filter((r) => r.operation === 'ConverseStream')).toHaveLength(1);
  });

  it('count-tokens passes through', async () => {
    const out = await client().send(
      new CountTokensCommand({
        modelId: CLAUDE,
        input: {
          converse: { messages: [{ role: 'user', content: [{ text: 'count these words please' }] }] },
        },
      }),
    );
    expect(out.inputTokens).toBeGreaterThan(0);
  });
});

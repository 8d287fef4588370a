/**
 * Model ARNs through the gateway, whose upstreams are its own accounts and regions: a client's ARN of a
 * foundation model or a system-defined inference profile names a region and account (its own, or the
 * first upstream's, as the door lists them) that the upstream serving the call may not be. Bedrock
 * refuses an ARN of another region (ValidationException) or another account's profile
 * (AccessDeniedException), so the gateway calls what the ARN stands for: the model or profile id,
 * which each upstream maps to its own geography. Driven by the AWS SDK on the door and the Anthropic
 * SDK on /v1/messages, against two emulators standing for two accounts in two regions.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GetFoundationModelCommand, GetInferenceProfileCommand } from '@aws-sdk/client-bedrock';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import { startEmulator } from '../emulator/server.ts';
import { doorClient, doorControlClient } from '../helpers/door.ts';
import { type Emulator, MASTER_KEY, setEmulatorCredentials, testConfig } from '../helpers/gateway.ts';

const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const QWEN = 'qwen.qwen3-coder-480b-a35b-v1:0';

let primary: Emulator;
let secondary: Emulator;
let gateway: RunningServer;

beforeAll(async () => {
  primary = await startEmulator({ port: 0, region: 'us-east-1', accountId: '111111111111' });
  secondary = await startEmulator({ port: 0, region: 'eu-west-1', accountId: '222222222222' });
  setEmulatorCredentials();
  const upstreams = parseUpstreams(
    [
      { name: 'primary', region: 'us-east-1', endpoint: primary.url, controlEndpoint: primary.url },
      { name: 'secondary', region: 'eu-west-1', endpoint: secondary.url, controlEndpoint: secondary.url },
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
beforeEach(() => {
  primary.reset();
  secondary.reset();
});

const converse = (modelId: string) =>
  doorClient(MASTER_KEY, gateway.url).send(
    new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
  );
const called = (emulator: Emulator) =>
  emulator.requests.filter((r) => r.operation === 'Converse').map((r) => r.modelId);

describe('model ARNs on the door', () => {
  it("the profile ARN the door lists, failed over to an upstream in another account and region: that upstream's own profile", async () => {
    const bedrock = doorControlClient(MASTER_KEY, gateway.url);
    const listed = await bedrock.send(
      new GetInferenceProfileCommand({ inferenceProfileIdentifier: `us.${SONNET}` }),
    );
    const arn = listed.inferenceProfileArn!;
    expect(arn).toBe(`arn:aws:bedrock:us-east-1:111111111111:inference-profile/us.${SONNET}`);
    primary.enqueue({ error: { name: 'ThrottlingException', message: 'slow down' } });
    secondary.enqueue({ text: 'from Ireland' });
    const out = await converse(arn);
    expect(out.output?.message?.content?.[0]?.text).toBe('from Ireland');
    expect(called(primary)).toEqual([`us.${SONNET}`]);
    expect(called(secondary)).toEqual([`eu.${SONNET}`]);
  });

  it("a profile ARN naming the client's own account: the profile, called in the gateway's account", async () => {
    primary.enqueue({ text: 'served' });
    const out = await converse(`arn:aws:bedrock:us-east-1:999999999999:inference-profile/us.${SONNET}`);
    expect(out.output?.message?.content?.[0]?.text).toBe('served');
    expect(called(primary)).toEqual([`us.${SONNET}`]);
  });

  it('a foundation-model ARN of another region: the model id', async () => {
    primary.enqueue({ text: 'served' });
    const out = await converse(`arn:aws:bedrock:eu-central-1::foundation-model/${QWEN}`);
    expect(out.output?.message?.content?.[0]?.text).toBe('served');
    expect(called(primary)).toEqual([QWEN]);
  });
});

describe('model ARNs on the control plane', () => {
  it("GetInferenceProfile and GetFoundationModel by an ARN naming the client's account or another region", async () => {
    const bedrock = doorControlClient(MASTER_KEY, gateway.url);
    const profile = await bedrock.send(
      new GetInferenceProfileCommand({
        inferenceProfileIdentifier: `arn:aws:bedrock:us-east-1:999999999999:inference-profile/us.${SONNET}`,
      }),
    );
    expect(profile.inferenceProfileId).toBe(`us.${SONNET}`);
    const model = await bedrock.send(
      new GetFoundationModelCommand({
        modelIdentifier: `arn:aws:bedrock:eu-central-1::foundation-model/${QWEN}`,
      }),
    );
    expect(model.modelDetails?.modelId).toBe(QWEN);
  });
});

describe('model ARNs on /v1/messages', () => {
  it('the Anthropic SDK naming a foundation-model ARN: the model is called', async () => {
    primary.enqueue({ text: 'via messages' });
    const client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const message = await client.messages.create({
      model: `arn:aws:bedrock:us-west-2::foundation-model/${QWEN}`,
      max_tokens: 50,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([expect.objectContaining({ type: 'text', text: 'via messages' })]);
    expect(called(primary)).toEqual([QWEN]);
  });
});

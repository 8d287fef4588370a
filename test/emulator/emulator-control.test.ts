import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  GetFoundationModelCommand,
  GetInferenceProfileCommand,
  ListFoundationModelsCommand,
  ListInferenceProfilesCommand,
  paginateListInferenceProfiles,
} from '@aws-sdk/client-bedrock';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigV4Signer } from '../../src/upstream/sigv4.ts';
import { type Emulator, type RecordedRequest, startEmulator } from './server.ts';
import { controlClient, runtimeClient } from './test-clients.ts';

let emulator: Emulator;
let control: ReturnType<typeof controlClient>;
beforeAll(async () => {
  emulator = await startEmulator();
  control = controlClient(emulator.url);
});
afterAll(async () => {
  control.destroy();
  await emulator.close();
});

describe('control plane', () => {
  it('lists foundation models with their modalities and inference types', async () => {
    const out = await control.send(new ListFoundationModelsCommand({}));
    const nova = out.modelSummaries?.find((m) => m.modelId === 'amazon.nova-pro-v1:0');
    expect(nova).toMatchObject({
      modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0',
      providerName: 'Amazon',
      inputModalities: ['TEXT', 'IMAGE'],
      outputModalities: ['TEXT'],
      responseStreamingSupported: true,
      modelLifecycle: { status: 'ACTIVE' },
    });
    const sonnet = out.modelSummaries?.find((m) => m.modelId === 'anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(sonnet?.inferenceTypesSupported).toEqual(['INFERENCE_PROFILE']);
    const anthropicOnly = await control.send(new ListFoundationModelsCommand({ byProvider: 'anthropic' }));
    expect(anthropicOnly.modelSummaries?.every((m) => m.providerName === 'Anthropic')).toBe(true);
    const one = await control.send(new GetFoundationModelCommand({ modelIdentifier: 'deepseek.r1-v1:0' }));
    expect(one.modelDetails?.modelName).toBe('DeepSeek-R1');
  });

  it('pages through inference profiles and can fetch one', async () => {
    const first = await control.send(new ListInferenceProfilesCommand({ maxResults: 5 }));
    expect(first.inferenceProfileSummaries).toHaveLength(5);
    expect(first.nextToken).toBeTruthy();
    const ids: string[] = [];
    for await (const page of paginateListInferenceProfiles(
      { client: control, pageSize: 7 },
      { typeEquals: 'SYSTEM_DEFINED' },
    )) {
      for (const p of page.inferenceProfileSummaries ?? []) ids.push(p.inferenceProfileId!);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(ids).toContain('global.anthropic.claude-sonnet-4-5-20250929-v1:0');
    expect(ids.some((id) => id.startsWith('eu.'))).toBe(false);
    const app = await control.send(new ListInferenceProfilesCommand({ typeEquals: 'APPLICATION' }));
    expect(app.inferenceProfileSummaries).toEqual([]);
    const profile = await control.send(
      new GetInferenceProfileCommand({
        inferenceProfileIdentifier: 'us.anthropic.claude-opus-4-1-20250805-v1:0',
      }),
    );
    expect(profile).toMatchObject({ status: 'ACTIVE', type: 'SYSTEM_DEFINED' });
    expect(profile.models?.[0]?.modelArn).toMatch(
      /foundation-model\/anthropic\.claude-opus-4-1-20250805-v1:0$/,
    );
    expect(profile.createdAt).toBeInstanceOf(Date);
  });
});

describe('authentication', () => {
  const converse = (client: ReturnType<typeof runtimeClient>) =>
    client
      .send(
        new ConverseCommand({
          modelId: 'qwen.qwen3-32b-v1:0',
          messages: [{ role: 'user', content: [{ text: 'x' }] }],
        }),
      )
      .catch((e) => e);

  it('refuses an unknown access key and a wrong secret like AWS does', async () => {
    const unknown = runtimeClient(emulator.url, 'h1-keepalive', {
      accessKeyId: 'AKIDOTHER',
      secretAccessKey: 'emulator-secret',
    });
    const wrongSecret = runtimeClient(emulator.url, 'h1-keepalive', {
      accessKeyId: 'AKIDEMULATOR',
      secretAccessKey: 'nope',
    });
    const a = await converse(unknown);
    const b = await converse(wrongSecret);
    expect([a.name, a.$metadata.httpStatusCode]).toEqual(['UnrecognizedClientException', 403]);
    expect([b.name, b.$metadata.httpStatusCode]).toEqual(['InvalidSignatureException', 403]);
    unknown.destroy();
    wrongSecret.destroy();
  });

  it('accepts a Bedrock API key as a bearer token and refuses a missing Authorization', async () => {
    const url = `${emulator.url}/model/qwen.qwen3-32b-v1%3A0/converse`;
    const payload = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'bearer' }] }] });
    const ok = await fetch(url, { method: 'POST', headers: { authorization: 'Bearer abc' }, body: payload });
    expect(ok.status).toBe(200);
    const missing = await fetch(url, { method: 'POST', body: payload });
    expect(missing.status).toBe(403);
    expect(missing.headers.get('x-amzn-errortype')).toMatch(/^UnrecognizedClientException:/);
  });

  it('verifies a replayed signature against what it signs: a changed body or header is refused', async () => {
    // The emulator remembers signatures it verified (its SigV4 check is not the bench's to pay twice);
    // a repeat must still match the signed request byte for byte.
    const host = new URL(emulator.url).host;
    const path = '/model/qwen.qwen3-32b-v1%3A0/converse';
    const body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'signed' }] }] });
    const signer = new SigV4Signer({
      service: 'bedrock',
      credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    });
    const headers = await signer.sign({
      method: 'POST',
      host,
      path,
      headers: { 'content-type': 'application/json' },
      body,
      region: 'us-east-1',
    });
    const send = (init: { body: string; headers: Record<string, string> }) =>
      fetch(`${emulator.url}${path}`, { method: 'POST', ...init });
    expect((await send({ body, headers })).status).toBe(200);
    expect((await send({ body, headers })).status).toBe(200);
    const tamperedBody = await send({ body: body.replace('signed', 'SIGNED'), headers });
    expect(tamperedBody.status).toBe(403);
    expect(tamperedBody.headers.get('x-amzn-errortype')).toMatch(/^InvalidSignatureException:/);
    const tamperedHeader = await send({ body, headers: { ...headers, 'content-type': 'text/plain' } });
    expect(tamperedHeader.status).toBe(403);
  });
});

describe('CLI process', () => {
  it('prints its URL, takes scripts over HTTP and reports requests', async () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const child = spawn(process.execPath, [main, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const { url } = JSON.parse(line.toString().split('\n')[0]!);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const scripted = await fetch(`${url}/__emulator/script`, {
        method: 'POST',
        body: JSON.stringify({ text: 'from the script' }),
      });
      expect(await scripted.json()).toEqual({ pending: 1 });
      const client = runtimeClient(url, 'h1-keepalive');
      const out = await client.send(
        new ConverseCommand({
          modelId: 'qwen.qwen3-32b-v1:0',
          messages: [{ role: 'user', content: [{ text: 'x' }] }],
        }),
      );
      client.destroy();
      expect(out.output?.message?.content?.[0]?.text).toBe('from the script');
      const log = (await (await fetch(`${url}/__emulator/requests`)).json()) as {
        requests: RecordedRequest[];
      };
      expect(log.requests).toHaveLength(1);
      expect(log.requests[0]).toMatchObject({ operation: 'Converse', modelId: 'qwen.qwen3-32b-v1:0' });
      await fetch(`${url}/__emulator/reset`, { method: 'POST' });
      const after = (await (await fetch(`${url}/__emulator/requests`)).json()) as {
        requests: RecordedRequest[];
      };
      expect(after.requests).toEqual([]);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});

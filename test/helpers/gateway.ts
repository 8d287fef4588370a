/**
 * The Bedrock emulator and a gateway wired to it in-process, for every suite that needs both. The AWS SDK reads the endpoint and
 * credentials from the environment, exactly as in production, so this also proves that wiring.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { displayPrefix, generateKey, hashKey, newKeyId } from '../../src/auth/key-format.ts';
import { type Config, defaultSettings, resolveConfig, type Settings } from '../../src/config/config.ts';
import type { ClaudePath } from '../../src/config/settings.ts';
import { type RunningServer, type StartServerOptions, startServer } from '../../src/server/http/server.ts';
import type { KeyLimits, KeyRecord, Store } from '../../src/store/types.ts';
import {
  type Operation,
  type RecordedRequest,
  startEmulator,
  TEST_ACCESS_KEY_ID,
  TEST_SECRET_ACCESS_KEY,
} from '../emulator/server.ts';
import { type Spawned, servingUrl, spawnAbproxy } from './process.ts';

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

export const MASTER_KEY = 'test-master-key';

/** The AWS settings of a gateway (or CLI) whose Bedrock is the emulator at `url`. */
export function emulatorAwsEnv(url: string, mantleUrl?: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: url,
    AWS_ENDPOINT_URL_BEDROCK: url,
    ...(mantleUrl === undefined ? {} : { AWS_ENDPOINT_URL_BEDROCK_MANTLE: mantleUrl }),
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
  };
}

/**
 * The emulator's static keys as the default credential chain's (the environment's), in `region`, with
 * nothing else in the environment that would change the chain: for gateways whose upstreams are set
 * per test (ABPROXY_UPSTREAMS) rather than through emulatorAwsEnv's endpoints.
 */
export function setEmulatorCredentials(region = 'us-east-1'): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
    AWS_REGION: region,
  });
  for (const name of ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_BEARER_TOKEN_BEDROCK'])
    delete process.env[name];
}

/** An ABPROXY_UPSTREAMS entry for an emulator standing for one region, signed with its static keys. */
export function emulatorUpstream(name: string, region: string, emulator: { url: string }) {
  return {
    name,
    region,
    endpoint: emulator.url,
    controlEndpoint: emulator.url,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
  };
}

export async function startBedrockEmulator(): Promise<Emulator> {
  const emulator = await startEmulator({ port: 0 });
  Object.assign(process.env, emulatorAwsEnv(emulator.url, emulator.mantleUrl));
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_BEARER_TOKEN_BEDROCK;
  return emulator;
}

export function testConfig(overrides: Partial<Settings> = {}, env: Record<string, string> = {}): Config {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-it-'));
  const config = resolveConfig({
    env: { MASTER_API_KEY: MASTER_KEY, LOG_LEVEL: 'silent', ...env },
    defaults: { ...defaultSettings(home), port: 0, host: '127.0.0.1' },
  });
  // The emulator's mantle host when one runs (startBedrockEmulator), so a gateway's catalogue never
  // reads the real bedrock-mantle host's model list from a test.
  const mantle = process.env.AWS_ENDPOINT_URL_BEDROCK_MANTLE;
  return { ...config, ...(mantle === undefined ? {} : { mantleEndpoint: mantle }), ...overrides };
}

export async function startGateway(
  overrides: Partial<Settings> = {},
  env: Record<string, string> = {},
  options: StartServerOptions = {},
) {
  const server: RunningServer = await startServer(testConfig(overrides, env), options);
  const client = new Anthropic({ baseURL: server.url, apiKey: MASTER_KEY, maxRetries: 0 });
  return { server, client, url: server.url };
}

/** POSTs `body` to the gateway's /v1/messages with the master key, as a client without the SDK would. */
export function postMessages(
  url: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'x-api-key': MASTER_KEY,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      ...headers,
    },
    body,
  });
}

/** A one-turn "hi" to `model`, as the body of postMessages. */
export function hiBody(model: string, stream: boolean, maxTokens = 50): string {
  return JSON.stringify({
    model,
    max_tokens: maxTokens,
    stream,
    messages: [{ role: 'user', content: 'hi' }],
  });
}

/** A 200 answer's text, from its one block or its stream's deltas (the status is asserted). */
export async function answerText(res: Response, stream: boolean): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(200);
  if (!stream) return (JSON.parse(text) as { content: { text: string }[] }).content[0]!.text;
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as { delta?: { text?: string } })
    .map((event) => event.delta?.text ?? '')
    .join('');
}

/**
 * The whole environment of `abproxy serve` as a user runs it on the emulator at `emulator.url`: a fresh
 * home and the master key; `env` adds to or overrides it (nothing else is inherited).
 */
export function serveEnv(
  emulator: { url: string; mantleUrl?: string },
  env: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-serve-')),
    ...emulatorAwsEnv(emulator.url, emulator.mantleUrl),
    MASTER_API_KEY: MASTER_KEY,
    LOG_LEVEL: 'error',
    ...env,
  };
}

/** `abproxy serve` spawned with serveEnv, once it listens. */
export async function serveOnEmulator(
  emulator: { url: string; mantleUrl?: string },
  env: Record<string, string> = {},
): Promise<{ serve: Spawned; url: string }> {
  const serve = spawnAbproxy(['serve', '--port', '0'], { env: serveEnv(emulator, env) });
  return { serve, url: await servingUrl(serve) };
}

/**
 * A Bedrock request body as the emulator recorded it. Tests read it by path (`body.messages[1].content`),
 * which no precise type allows under noUncheckedIndexedAccess without a cast at every step.
 */
// biome-ignore lint/suspicious/noExplicitAny: recorded request bodies, read by path in assertions
export type Json = Record<string, any>;

/** A 1×1 transparent PNG. */
export const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
export const PNG: Anthropic.ImageBlockParam = {
  type: 'image',
  source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 },
};

/** A conversation of one user turn. */
export const ask = (text: string): Anthropic.MessageParam[] => [{ role: 'user', content: text }];

/** A conversation of one user turn made of these blocks. */
export const askWith = (...content: Anthropic.ContentBlockParam[]): Anthropic.MessageParam[] => [
  { role: 'user', content },
];

/** SDK 1.x no longer types temperature/top_p/top_k (newer models refuse them); the API still takes them. */
export const sampled = (params: Record<string, unknown>) =>
  params as unknown as Anthropic.MessageCreateParamsNonStreaming;

/** Sends one request with `messages.create`, or with `messages.stream` read to its final message. */
export function send(
  client: Anthropic,
  params: Anthropic.MessageCreateParamsNonStreaming,
  stream: boolean,
): Promise<Anthropic.Message> {
  return stream ? client.messages.stream(params).finalMessage() : client.messages.create(params);
}

/** The same request sent both ways: `[created, streamed]`. */
export async function createAndStream(
  client: Anthropic,
  params: Anthropic.MessageCreateParamsNonStreaming,
): Promise<[Anthropic.Message, Anthropic.Message]> {
  const created = await client.messages.create(params);
  const streamed = await client.messages.stream(params).finalMessage();
  return [created, streamed];
}

export interface GatewayWithEmulator {
  readonly emulator: Emulator;
  readonly gateway: RunningServer;
  readonly client: Anthropic;
  /** The calls of one operation that reached the emulator since the last reset. */
  calls(operation: Operation): RecordedRequest[];
  /** The body of the last call of one operation; fails the test if there was none. */
  lastBody(operation?: Operation): Json;
}

/**
 * Registers the suite's hooks: the emulator and a gateway on it start before all tests and close after
 * them, and the emulator is reset (script and recorded requests) before each test.
 */
export function gatewayWithEmulator(
  overrides: Partial<Settings> = {},
  options: StartServerOptions = {},
): GatewayWithEmulator {
  let emulator: Emulator | undefined;
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;

  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    // The mantle Claude path's host is the emulator's second port.
    gateway = await startGateway({ mantleEndpoint: emulator.mantleUrl, ...overrides }, {}, options);
  });
  afterAll(async () => {
    await gateway?.server.close();
    await emulator?.close();
  });
  beforeEach(() => emulator?.reset());

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the gateway is not running (used outside a test?)');
    return value;
  };
  const calls = (operation: Operation) => ready(emulator).requests.filter((r) => r.operation === operation);
  return {
    get emulator() {
      return ready(emulator);
    },
    get gateway() {
      return ready(gateway).server;
    },
    get client() {
      return ready(gateway).client;
    },
    calls,
    lastBody(operation = 'Converse') {
      const call = calls(operation).at(-1);
      expect(call, `no ${operation} call reached the emulator`).toBeDefined();
      return call!.body as Json;
    },
  };
}

/**
 * Registers the suite's hooks: the emulator and one gateway per Claude path on it (each with `overrides`)
 * start before all tests and close after them. For what must hold on the native path and on Converse alike.
 */
export function gatewayPerClaudePath(
  paths: readonly ClaudePath[],
  overrides: Partial<Settings> = {},
): { readonly emulator: Emulator; gateway(path: ClaudePath): RunningServer } {
  let emulator: Emulator | undefined;
  const gateways = new Map<ClaudePath, RunningServer>();
  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    for (const claudePath of paths)
      gateways.set(claudePath, await startServer(testConfig({ ...overrides, claudePath })));
  });
  afterAll(async () => {
    for (const gateway of gateways.values()) await gateway.close();
    await emulator?.close();
  });
  return {
    get emulator() {
      if (!emulator) throw new Error('the emulator is not running (used outside a test?)');
      return emulator;
    },
    gateway(path) {
      const gateway = gateways.get(path);
      if (!gateway) throw new Error(`no gateway on the ${path} path (used outside a test?)`);
      return gateway;
    },
  };
}

/** A key with these limits, put straight into the store (as `keys create` would); the secret to use it. */
export async function storeKey(
  store: Store,
  limits: KeyLimits = {},
  /** Other fields of the key record (its service tier, model globs). */
  fields: Partial<Pick<KeyRecord, 'serviceTier' | 'models'>> = {},
): Promise<{ id: string; secret: string }> {
  const secret = generateKey();
  const id = newKeyId();
  await store.createKey({
    ...fields,
    id,
    hash: hashKey(secret),
    prefix: displayPrefix(secret),
    limits,
    createdAt: new Date().toISOString(),
  });
  return { id, secret };
}

/**
 * Upstreams that misbehave in ways a throttle or a 5xx does not cover, behind a pool of two: an STS
 * that hangs or refuses the role, a region that accepts the connection and never answers, a 200 that is
 * a proxy's HTML page. Each must cost its upstream the call (the next one serves it), not hang the call
 * or reach the client as its own fault. The Anthropic SDK is the client; the second upstream is a real
 * emulator, the broken parts are plain sockets and HTTP servers speaking what the broken thing would.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { ListFoundationModelsCommand } from '@aws-sdk/client-bedrock';
import { ConverseCommand, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/config.ts';
import { type StartServerOptions, startServer } from '../../src/server/http/server.ts';
import { BedrockUpstream } from '../../src/upstream/bedrock.ts';
import { assumedRole } from '../../src/upstream/upstream-set.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import { startEmulator, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from '../emulator/server.ts';
import { doorClient } from '../helpers/door.ts';
import {
  ask,
  type Emulator,
  emulatorUpstream,
  MASTER_KEY,
  setEmulatorCredentials,
  testConfig,
} from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';

const CLAUDE = 'claude-sonnet-4-5-20250929';
const NOVA = 'amazon.nova-lite-v1:0';
const ROLE = 'arn:aws:iam::123456789012:role/bedrock';

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
  delete process.env.AWS_ENDPOINT_URL_STS;
  delete process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
  delete process.env.AWS_ENDPOINT_URL_BEDROCK;
});

/** A TCP server that accepts every connection and never writes a byte; counts the connections. */
async function silentServer(): Promise<{ url: string; connections: () => number }> {
  const sockets = new Set<Socket>();
  let count = 0;
  const server: TcpServer = createTcpServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => count };
}

/** An HTTP server answering every request with `status`, `type` and `body`. */
async function answeringServer(status: number, type: string, body: string): Promise<string> {
  const server: Server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': 'fake-request' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** STS's own answer when the caller may not assume the role. */
const STS_ACCESS_DENIED = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/gateway is not authorized to perform: sts:AssumeRole on resource: ${ROLE}</Message>
  </Error>
  <RequestId>4b1c0f0e-0000-4000-8000-000000000000</RequestId>
</ErrorResponse>`;

interface Pair {
  secondary: Emulator;
  client: Anthropic;
}

/**
 * A gateway over two upstreams: `first` (its runtime endpoint and credentials given; its catalogue read
 * from a healthy emulator so the model is known there) and a healthy secondary with static keys.
 */
async function pair(
  first: { endpoint: string; role?: boolean },
  overrides: Partial<Settings> = {},
  options: StartServerOptions = {},
): Promise<Pair> {
  const catalogue = await startEmulator({ port: 0 });
  const secondary = await startEmulator({ port: 0 });
  open.push(catalogue, secondary);
  setEmulatorCredentials();
  const upstreams = parseUpstreams(
    [
      {
        name: 'first',
        region: 'us-east-1',
        endpoint: first.endpoint,
        controlEndpoint: catalogue.url,
        ...(first.role ? { credentials: { roleArn: ROLE } } : {}),
      },
      emulatorUpstream('secondary', 'us-west-2', secondary),
    ],
    'ABPROXY_UPSTREAMS',
  );
  return { secondary, client: await clientOf(upstreams, overrides, options) };
}

/** The Anthropic SDK (no retries) on a gateway over these upstreams. */
async function clientOf(
  upstreams: Settings['upstreams'],
  overrides: Partial<Settings> = {},
  options: StartServerOptions = {},
): Promise<Anthropic> {
  const gateway = await startServer(testConfig({ upstreams, ...overrides }), options);
  open.push(gateway);
  return new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
}

async function servedBy(
  client: Anthropic,
  stream = false,
  model = CLAUDE,
  maxTokens = 50,
): Promise<{ upstream: string | null; ms: number }> {
  const started = performance.now();
  const params = { model, max_tokens: maxTokens, messages: ask('hello') };
  const { response } = stream
    ? await client.messages.stream(params).withResponse()
    : await client.messages.create(params).withResponse();
  return { upstream: response.headers.get('x-abproxy-upstream'), ms: performance.now() - started };
}

describe('role credentials from a broken STS', () => {
  it('a hung AssumeRole gives up within its deadline, and the next call asks STS again', async () => {
    const sts = await silentServer();
    setEmulatorCredentials();
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    const provider = assumedRole({ roleArn: ROLE }, 'us-east-1', 300);
    const started = performance.now();
    const err = await provider().catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(err).toMatchObject({ name: 'CredentialsProviderError' });
    expect((err as Error).message).toMatch(/did not answer AssumeRole within 300 ms/);
    const before = sts.connections();
    await provider().catch(() => undefined);
    expect(sts.connections()).toBeGreaterThan(before);
  });

  it('a stream fails over while STS hangs (the first-byte timer stops the wait for credentials)', async () => {
    const sts = await silentServer();
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    const { secondary, client } = await pair(
      { endpoint: 'http://127.0.0.1:9', role: true },
      { firstByteTimeoutMs: 500 },
    );
    const { upstream, ms } = await servedBy(client, true);
    expect(upstream).toBe('secondary');
    expect(ms).toBeLessThan(5_000);
    expect(sts.connections()).toBeGreaterThanOrEqual(1);
    expect(secondary.requests.some((r) => r.operation === 'InvokeModelWithResponseStream')).toBe(true);
  });

  it('AccessDenied from STS moves the call to the next upstream instead of a 403 about the client', async () => {
    process.env.AWS_ENDPOINT_URL_STS = await answeringServer(403, 'text/xml', STS_ACCESS_DENIED);
    const { client } = await pair({ endpoint: 'http://127.0.0.1:9', role: true });
    expect((await servedBy(client)).upstream).toBe('secondary');
  });
});

/** A TCP server that reads each request and resets the connection; counts the requests it read. */
async function resettingServer(): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  const server = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      count++;
      socket.resetAndDestroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests: () => count };
}

describe('connection resets behind a pool', () => {
  it('each upstream gets the request once: the next upstream is the retry, not the same one again', async () => {
    const [a, b] = [await resettingServer(), await resettingServer()];
    setEmulatorCredentials();
    const catalogue = await startEmulator({ port: 0 });
    open.push(catalogue);
    const client = await clientOf(
      parseUpstreams(
        [
          { name: 'a', region: 'us-east-1', endpoint: a.url, controlEndpoint: catalogue.url },
          { name: 'b', region: 'us-west-2', endpoint: b.url, controlEndpoint: catalogue.url },
        ],
        'ABPROXY_UPSTREAMS',
      ),
      { upstreamMaxAttempts: 3 },
    );
    const err = await client.messages
      .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBeGreaterThanOrEqual(500);
    expect([a.requests(), b.requests()]).toEqual([1, 1]);
  });
});

describe('a region that misbehaves after accepting the call', () => {
  it('never answering a non-stream call: cut at the answer timeout, then served by the next', async () => {
    const silent = await silentServer();
    const { client } = await pair({ endpoint: silent.url }, { upstreamAnswerTimeoutMs: 500 });
    const { upstream, ms } = await servedBy(client);
    expect(silent.connections()).toBeGreaterThanOrEqual(1);
    expect(upstream).toBe('secondary');
    expect(ms).toBeLessThan(5_000);
  });

  it('never answering non-stream calls: each moves on once no answer of its max_tokens could take so long, and after three the region is skipped', async () => {
    const silent = await silentServer();
    const { client } = await pair({ endpoint: silent.url }, { firstByteTimeoutMs: 200 });
    // 200 ms + 10 tokens at 10 tokens/s: 1.2 s, not the 10-minute answer timeout no client waits for.
    for (let i = 0; i < 4; i++) {
      const { upstream, ms } = await servedBy(client, false, CLAUDE, 10);
      expect(upstream).toBe('secondary');
      expect(ms).toBeLessThan(5_000);
    }
    expect(silent.connections()).toBe(3);
  });

  it('every region silent: the last attempt of a non-stream call ends at its max_tokens bound too, a 504 (it waited the 10-minute answer timeout)', async () => {
    const first = await silentServer();
    const second = await silentServer();
    const catalogue = await startEmulator({ port: 0 });
    open.push(catalogue);
    setEmulatorCredentials();
    const upstreams = parseUpstreams(
      [
        { name: 'first', region: 'us-east-1', endpoint: first.url, controlEndpoint: catalogue.url },
        { name: 'second', region: 'us-west-2', endpoint: second.url, controlEndpoint: catalogue.url },
      ],
      'ABPROXY_UPSTREAMS',
    );
    const client = await clientOf(upstreams, { firstByteTimeoutMs: 200 });
    const started = performance.now();
    // 200 ms + 10 tokens at 10 tokens/s = 1.2 s on each region.
    const err = await client.messages
      .create({ model: CLAUDE, max_tokens: 10, messages: ask('hello') })
      .catch((e: unknown) => e);
    expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(504);
    expect(performance.now() - started).toBeLessThan(6_000);
    expect([first.connections(), second.connections()]).toEqual([1, 1]);
  });

  it('the Bedrock-format door: a non-stream Converse or InvokeModel moves on from a silent region at the bound its max_tokens gives', async () => {
    const silent = await silentServer();
    const { client } = await pair({ endpoint: silent.url }, { firstByteTimeoutMs: 200 });
    const door = doorClient(MASTER_KEY, client.baseURL);
    const modelId = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const content = [{ text: 'hello' }];
    let started = performance.now();
    const converse = await door.send(
      new ConverseCommand({
        modelId,
        messages: [{ role: 'user', content }],
        inferenceConfig: { maxTokens: 10 },
      }),
    );
    expect(converse.output?.message?.content?.[0]?.text).toBeTruthy();
    expect(performance.now() - started).toBeLessThan(5_000);
    started = performance.now();
    const body = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: ask('hello') };
    const invoked = await door.send(new InvokeModelCommand({ modelId, body: JSON.stringify(body) }));
    expect(JSON.parse(new TextDecoder().decode(invoked.body))).toMatchObject({ type: 'message' });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(silent.connections()).toBe(2);
  });

  it('a slow non-stream answer within what its max_tokens may take is never cut (the emulator slow to answer)', async () => {
    const first = await startEmulator({ port: 0, faults: { slowFirstByte: { ms: 1_500, every: 1 } } });
    open.push(first);
    const { secondary, client } = await pair({ endpoint: first.url }, { firstByteTimeoutMs: 200 });
    // 200 ms + 20 tokens at 10 tokens/s: 2.2 s.
    for (let i = 0; i < 2; i++) expect((await servedBy(client, false, CLAUDE, 20)).upstream).toBe('first');
    const calls = ['InvokeModel', 'Converse', 'MessagesApi'];
    expect(secondary.requests.filter((r) => calls.includes(r.operation))).toHaveLength(0);
  });

  it('never answering a stream, by default: Claude and open-model streams move on in 20 s, not 10 min', async () => {
    const silent = await silentServer();
    const { client } = await pair({ endpoint: silent.url });
    const [claude, nova] = await Promise.all([servedBy(client, true), servedBy(client, true, NOVA)]);
    for (const { upstream, ms } of [claude, nova]) {
      expect(upstream).toBe('secondary');
      expect(ms).toBeLessThan(30_000);
    }
    expect(silent.connections()).toBe(2);
  }, 45_000);

  it('the cut is logged and counted as a timeout, and after three the silent region is skipped', async () => {
    const silent = await silentServer();
    const { logger, lines } = capturedLog('warn');
    const { client } = await pair({ endpoint: silent.url }, { firstByteTimeoutMs: 200 }, { logger });
    for (let i = 0; i < 4; i++) expect((await servedBy(client, true)).upstream).toBe('secondary');
    // Its breaker opened after three cuts: the fourth call went straight to the secondary.
    expect(silent.connections()).toBe(3);
    const failed = lines.filter((l) => l.msg === 'upstream attempt failed');
    expect(failed[0]).toMatchObject({ upstream: 'first', fault: 'timeout' });
    expect(String(failed[0]?.error)).toContain('no answer within 200 ms');
  });

  it('a prompt slow to start everywhere: each call moves on and is served, and the cut region is not shut out for it', async () => {
    const slow = { slowFirstByte: { ms: 600, every: 1 } };
    const first = await startEmulator({ port: 0, faults: slow });
    open.push(first);
    const { secondary, client } = await pair({ endpoint: first.url }, { firstByteTimeoutMs: 200 });
    secondary.setFaults(slow);
    for (let i = 0; i < 4; i++) expect((await servedBy(client, true)).upstream).toBe('secondary');
    // Every call tried the first region again: its cuts were the prompt's slowness, not its own.
    expect(first.requests.filter((r) => r.operation === 'InvokeModelWithResponseStream')).toHaveLength(4);
    // A non-streamed answer comes whole when it is ready: never cut by the first-byte timer.
    expect((await servedBy(client)).upstream).toBe('first');
  });

  it.each(['1.1', '2'] as const)(
    'never answering, with no other upstream left: a 504 timeout_error, not a hang (HTTP/%s)',
    async (http) => {
      const silent = await silentServer();
      const catalogue = await startEmulator({ port: 0 });
      open.push(catalogue);
      const client = await clientOf(
        parseUpstreams(
          [{ name: 'only', region: 'us-east-1', endpoint: silent.url, controlEndpoint: catalogue.url }],
          'ABPROXY_UPSTREAMS',
        ),
        { upstreamAnswerTimeoutMs: 400, upstreamHttp: http },
      );
      const err = await client.messages
        .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(504);
      expect((err as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({
        type: 'error',
        error: { type: 'timeout_error' },
      });
    },
  );

  it('the first-byte timer does not cut a stream when the upstreams after it are all skipped by open breakers', async () => {
    const first = await startEmulator({ port: 0 });
    open.push(first);
    const { secondary, client } = await pair({ endpoint: first.url }, { firstByteTimeoutMs: 200 });
    // Three calls open the secondary's breaker (the first refuses them for its account: no breaker).
    for (let i = 0; i < 3; i++) {
      first.enqueue({ error: { name: 'AccessDeniedException', message: 'not this account' } });
      secondary.enqueue({ error: { name: 'ServiceUnavailableException', message: 'down' } });
      await servedBy(client, true).catch(() => undefined);
    }
    // Now the first is the only upstream left: a stream slow to start there is served, not cut into a 504.
    first.setFaults({ slowFirstByte: { ms: 600, every: 1 } });
    expect((await servedBy(client, true)).upstream).toBe('first');
  });

  it('every region silent to a stream: a 504 at the stream-start bound, and after three the breakers answer at once', async () => {
    const catalogue = await startEmulator({ port: 0 });
    open.push(catalogue);
    setEmulatorCredentials();
    const silent = [await silentServer(), await silentServer()];
    const client = await clientOf(
      parseUpstreams(
        silent.map((s, i) => ({
          name: `r${i}`,
          region: 'us-east-1',
          endpoint: s.url,
          controlEndpoint: catalogue.url,
        })),
        'ABPROXY_UPSTREAMS',
      ),
      { firstByteTimeoutMs: 200, streamStartTimeoutMs: 600, upstreamAnswerTimeoutMs: 10_000 },
    );
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      const err = (await client.messages
        .create({ model: CLAUDE, max_tokens: 50, messages: ask('x'), stream: true })
        .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
      expect(performance.now() - started).toBeLessThan(3_000);
      expect(err.status).toBe(504);
      expect(err.error).toMatchObject({ error: { type: 'timeout_error' } });
    }
    // The first region cut by the first-byte timer, the last one by the stream-start bound: both count.
    expect(silent.map((s) => s.connections())).toEqual([3, 3]);
  });

  it.each(['1.1', '2'] as const)(
    'one upstream, no ABPROXY_UPSTREAMS, never answering a stream: the same retryable 504 at the stream-start bound, not the answer timeout (HTTP/%s)',
    async (http) => {
      const silent = await silentServer();
      const catalogue = await startEmulator({ port: 0 });
      open.push(catalogue);
      setEmulatorCredentials();
      process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = silent.url;
      process.env.AWS_ENDPOINT_URL_BEDROCK = catalogue.url;
      const client = await clientOf(undefined, {
        streamStartTimeoutMs: 600,
        firstByteTimeoutMs: 100,
        upstreamAnswerTimeoutMs: 2_000,
        upstreamHttp: http,
      });
      const call = async (stream: boolean, maxTokens = 50) => {
        const started = performance.now();
        const err = (await client.messages
          .create({ model: CLAUDE, max_tokens: maxTokens, messages: ask('x'), stream })
          .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
        return { err, ms: performance.now() - started };
      };
      const streamed = await call(true);
      expect(streamed.ms).toBeLessThan(1_800);
      expect(streamed.err.status).toBe(504);
      expect(streamed.err.error).toMatchObject({
        error: { type: 'timeout_error', message: 'Bedrock did not start answering within 600 ms' },
      });
      // The Anthropic SDKs retry a 5xx unless told not to.
      expect(streamed.err.headers?.get('x-should-retry')).not.toBe('false');
      // A retry is not held the whole bound again (each of a client's retries was): it gets the
      // first-byte timer, until a stream of the model starts.
      const retried = await call(true);
      expect(retried.ms).toBeLessThan(500);
      expect(retried.err.status).toBe(504);
      expect(retried.err.error).toMatchObject({ error: { type: 'timeout_error' } });
      // A non-stream answer may take minutes: its max_tokens bounds it (the first-byte timeout plus
      // 100 ms a token: 5.1 s for 50, past the answer timeout), as behind a pool.
      const whole = await call(false);
      expect(whole.err.status).toBe(504);
      expect(whole.ms).toBeGreaterThan(1_800);
      // One token: 200 ms, well before the 2-s answer timeout (it held the SDK past Node's 5-minute
      // wait for headers, each retry, until a connection error).
      const short = await call(false, 1);
      expect(short.ms).toBeLessThan(1_500);
      expect(short.err.status).toBe(504);
      expect(short.err.error).toMatchObject({ error: { type: 'timeout_error' } });
      expect(silent.connections()).toBeGreaterThanOrEqual(2);
    },
  );

  it('every region down: the calls skipped by open breakers get the status the first calls got, with retry-after', async () => {
    const catalogue = await startEmulator({ port: 0 });
    const refusing = [
      await startEmulator({ port: 0, faults: { refuseConnections: true } }),
      await startEmulator({ port: 0, faults: { refuseConnections: true } }),
    ];
    const silent = [await silentServer(), await silentServer()];
    open.push(catalogue, ...refusing);
    setEmulatorCredentials();
    const downPool = (endpoints: string[]) =>
      clientOf(
        parseUpstreams(
          endpoints.map((endpoint, i) => ({
            name: `r${i}`,
            region: 'us-east-1',
            endpoint,
            controlEndpoint: catalogue.url,
          })),
          'ABPROXY_UPSTREAMS',
        ),
        { upstreamAnswerTimeoutMs: 300 },
      );
    for (const [client, status, type] of [
      [await downPool(refusing.map((e) => e.url)), 502, 'api_error'],
      [await downPool(silent.map((s) => s.url)), 504, 'timeout_error'],
    ] as const) {
      const answers: { status: number | undefined; type: unknown; retryAfter: string | null }[] = [];
      for (let i = 0; i < 4; i++) {
        const err = (await client.messages
          .create({ model: CLAUDE, max_tokens: 50, messages: ask('x') })
          .catch((e: unknown) => e)) as InstanceType<typeof Anthropic.APIError>;
        answers.push({
          status: err.status,
          type: (err.error as { error?: { type?: unknown } }).error?.type,
          retryAfter: err.headers?.get('retry-after') ?? null,
        });
      }
      // Three calls tried every region and opened their breakers; the fourth tried none.
      expect(answers.map((a) => [a.status, a.type])).toEqual(Array(4).fill([status, type]));
      expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(0);
    }
    expect(silent.map((s) => s.connections())).toEqual([3, 3]);
  });

  it('a control plane that never answers fails the listing at its timeout (the catalogue falls back)', async () => {
    const silent = await silentServer();
    const upstream = new BedrockUpstream({
      region: 'us-east-1',
      http: '1.1',
      maxAttempts: 1,
      maxConnections: 4,
      controlEndpoint: silent.url,
      controlTimeoutMs: 300,
      credentials: async () => ({ accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY }),
    });
    open.push({ close: () => upstream.destroy() });
    const started = performance.now();
    const err = await upstream
      .control()
      .send(new ListFoundationModelsCommand({}))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(silent.connections()).toBe(1);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('a 200 text/html page to a non-stream InvokeModel is a fault of that upstream: the next one serves', async () => {
    const proxy = await answeringServer(200, 'text/html', '<html><body>Please sign in</body></html>');
    const { secondary, client } = await pair({ endpoint: proxy });
    const message = await client.messages.create({ model: CLAUDE, max_tokens: 50, messages: ask('x') });
    expect(message.content[0]).toMatchObject({ type: 'text' });
    expect(secondary.requests.some((r) => r.operation === 'InvokeModel')).toBe(true);
  });
});

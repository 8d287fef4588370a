/**
 * Team mode when DynamoDB goes away (its process killed, connections refused) and comes back, as an
 * on-call engineer lives it: what key holders get meanwhile, and the usage of the calls served.
 */
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkStorage } from '../../src/cli/doctor.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import {
  type Emulator,
  emulatorAwsEnv,
  hiBody,
  MASTER_KEY,
  postMessages,
  startBedrockEmulator,
  storeKey,
  testConfig,
} from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';
import { DENIED_ACCOUNT, iamProxy } from '../store/iam-proxy.ts';
import { modelCalls, startServe } from '../usage/processes.ts';

const PREFIX = 'outage';
const CACHE_MS = 500;
let emulator: Emulator;
let local: DynamoLocal;
let gateway: RunningServer;
let admin: DynamoStore;

beforeAll(async () => {
  [emulator, local] = await Promise.all([
    startBedrockEmulator(),
    startDynamoLocal({ dir: mkdtempSync(join(tmpdir(), 'abproxy-ddb-')) }),
  ]);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = local.endpoint;
  await setupTables(local.client(), tableSchemas(PREFIX));
  admin = new DynamoStore({ tablePrefix: PREFIX, region: 'us-east-1', client: local.client() });
  gateway = await startServer(
    testConfig({
      mode: 'team',
      tablePrefix: PREFIX,
      keyCacheMs: CACHE_MS,
      usageDrainMs: 100,
      usageRetryMaxMs: 300,
    }),
  );
}, 90_000);
afterAll(async () => {
  await gateway?.close();
  await admin?.close();
  await local?.stop();
  await emulator?.close();
});

const call = (key: string) =>
  postMessages(gateway.url, hiBody('claude-haiku-4-5', false, 10), { 'x-api-key': key });

describe('DynamoDB killed, then back', () => {
  it('keys in use keep working through the outage; unseen keys get 529 with retry-after; every call served is stored once', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const known = await storeKey(admin, { requestsPerMinute: 100, budgetUsd: 5 });
    const unseen = await storeKey(admin);
    emulator.reset();
    expect((await call(known.secret)).status).toBe(200);

    await local.kill();
    try {
      // Well past the key cache time: the outage outlasts it, as real ones do.
      await new Promise((resolve) => setTimeout(resolve, CACHE_MS * 3));
      for (let i = 0; i < 3; i++) {
        const res = await call(known.secret);
        expect(res.status, await res.clone().text()).toBe(200);
        await res.text();
      }
      const refused = await call(unseen.secret);
      expect(refused.status).toBe(529);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      expect(((await refused.json()) as { error: { type: string } }).error.type).toBe('overloaded_error');
      expect((await call(MASTER_KEY)).status).toBe(200);
      expect((await fetch(`${gateway.url}/ready`)).status).toBe(200);
    } finally {
      await local.restart();
    }
    expect((await call(unseen.secret)).status).toBe(200);

    const served = modelCalls(emulator.requests).length;
    expect(served).toBe(6);
    let records: Awaited<ReturnType<DynamoStore['listUsage']>> = [];
    for (let i = 0; i < 60 && records.length < served; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      records = await admin.listUsage({ since });
    }
    // Exactly once: a few more drains change nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    records = await admin.listUsage({ since });
    expect(records.length).toBe(served);
    expect(new Set(records.map((r) => r.id)).size).toBe(served);
    expect(records.filter((r) => r.keyId === known.id)).toHaveLength(4);
  }, 120_000);
});

describe('a loopback team gateway with no master key and no keys yet (open until the first key)', () => {
  it('answers a call without a key 529 while DynamoDB is unreachable, not 500', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    // A port nothing listens on: DynamoDB down since before the start (which only logs it).
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
    let open: RunningServer | undefined;
    try {
      open = await startServer(testConfig({ mode: 'team', tablePrefix: PREFIX }, { MASTER_API_KEY: '' }));
      const res = await fetch(`${open.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: hiBody('claude-haiku-4-5', false, 10),
      });
      expect(res.status).toBe(529);
      expect(res.headers.get('retry-after')).toBeTruthy();
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      await open?.close();
    }
  });
});

describe('the log of a key store outage', () => {
  it('says it once per 10 s with how many failed, not two lines with a stack per request', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
    const log = capturedLog();
    let down: RunningServer | undefined;
    try {
      down = await startServer(testConfig({ mode: 'team', tablePrefix: PREFIX, keyCacheMs: CACHE_MS }), {
        logger: log.logger,
      });
      const started = log.lines.length;
      for (let i = 0; i < 5; i++) {
        const res = await postMessages(down.url, hiBody('claude-haiku-4-5', false, 10), {
          'x-api-key': `abp_unseen${i}`.padEnd(48, 'x'),
        });
        expect(res.status).toBe(529);
        await res.text();
      }
      const warnings = log.lines.slice(started).filter((line) => line.level >= 40);
      expect(warnings.map((line) => line.msg)).toEqual(['key store did not answer a key lookup']);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      await down?.close();
    }
  });
});

describe('abproxy doctor on team tables', () => {
  const storeCheck = async (prefix: string) =>
    (await checkStorage(testConfig({ mode: 'team', tablePrefix: prefix }))).find((c) => c.name === 'store');

  it('fails on a missing usage table, which serve refuses to start on (it said ok)', async () => {
    await setupTables(local.client(), tableSchemas('doctor'));
    expect(await storeCheck('doctor')).toMatchObject({ status: 'ok' });
    await local.client().send(new DeleteTableCommand({ TableName: 'doctor-usage' }));
    const check = await storeCheck('doctor');
    expect(check).toMatchObject({ status: 'fail' });
    expect(check?.detail).toMatch(/doctor-usage does not exist/);
    expect(check?.hint).toMatch(/abproxy tables setup --table-prefix doctor/);
  });

  it('says a DynamoDB that refuses connections cannot be reached, not to run tables setup', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    // A port nothing listens on: what every instance sees while DynamoDB is down.
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
    try {
      const check = await storeCheck(PREFIX);
      expect(check).toMatchObject({ status: 'fail' });
      expect(check?.detail).toMatch(/could not be reached.*AWS_ENDPOINT_URL_DYNAMODB/);
      expect(`${check?.detail} ${check?.hint ?? ''}`).not.toMatch(/tables setup/);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
    }
  });
});

/**
 * DynamoDB behind a TCP proxy that injects its faults: with `hold`, no call but GetItem (the key
 * lookup) is forwarded (a store that stopped answering, its connections up); with `lateUpdatesMs`,
 * UpdateItem calls reach DynamoDB at once but their answers come that much later (a slow store: the
 * write is made, the caller times out), for the next `lateUpdates` of them.
 */
async function faultyProxy(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const state = { hold: false, lateUpdatesMs: 0, lateUpdates: Number.POSITIVE_INFINITY };
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    let late = 0;
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
    }
    client.on('data', (chunk: Buffer) => {
      // A call's headers name its operation (X-Amz-Target); its body may come in later chunks.
      if (chunk.includes('DynamoDB_20120810.')) {
        late = chunk.includes('UpdateItem') && state.lateUpdates > 0 ? state.lateUpdatesMs : 0;
        if (late > 0) state.lateUpdates--;
      }
      if (!state.hold || chunk.includes('GetItem')) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (late === 0) client.write(chunk);
      else setTimeout(() => client.destroyed || client.write(chunk), late);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    state,
    close() {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** A team gateway whose DynamoDB calls go through `proxy`. */
async function gatewayThrough(
  proxy: { url: string },
  options: Parameters<typeof startServer>[1] = {},
): Promise<RunningServer> {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
  try {
    return await startServer(testConfig({ mode: 'team', tablePrefix: PREFIX, usageDrainMs: 100 }), options);
  } finally {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  }
}

describe('DynamoDB slow to the point of not answering', () => {
  it('a request of a key with a budget and every limit waits about one store timeout, not one per limit', async () => {
    const proxy = await faultyProxy(local.endpoint);
    let slowGateway: RunningServer | undefined;
    try {
      slowGateway = await gatewayThrough(proxy);
      const key = await storeKey(admin, {
        requestsPerMinute: 100,
        tokensPerMinute: 100_000,
        concurrentRequests: 3,
        budgetUsd: 5,
      });
      proxy.state.hold = true;
      const started = Date.now();
      const res = await postMessages(slowGateway.url, hiBody('claude-haiku-4-5', false, 10), {
        'x-api-key': key.secret,
      });
      const took = Date.now() - started;
      expect(res.status, await res.text()).toBe(200);
      // One call's two attempts of 4 s each; it was 8 s for each of the budget, concurrency and two leases.
      expect(took).toBeLessThan(12_000);
    } finally {
      proxy.close();
      await slowGateway?.close();
    }
  }, 90_000);

  it('a budget is charged once for what was spent, though the store answered its charges too late', async () => {
    const proxy = await faultyProxy(local.endpoint);
    let slowGateway: RunningServer | undefined;
    try {
      slowGateway = await gatewayThrough(proxy);
      const key = await storeKey(admin, { budgetUsd: 5 });
      const since = new Date(Date.now() - 1000).toISOString();
      const ask = () =>
        postMessages(slowGateway!.url, hiBody('claude-haiku-4-5', false, 10), { 'x-api-key': key.secret });
      expect((await ask()).status).toBe(200);
      // Later than the client's 4 s request timeout: each charge is made, and looks failed.
      proxy.state.lateUpdatesMs = 5_000;
      for (let i = 0; i < 3; i++) expect((await ask()).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 14_000));
      proxy.state.lateUpdatesMs = 0;
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      const records = await admin.listUsage({ since, keyId: key.id });
      expect(records).toHaveLength(4);
      const spentMicros = Math.round(records.reduce((sum, r) => sum + (r.costUsd ?? 0), 0) * 1e6);
      const month = new Date().toISOString().slice(0, 7);
      const counted = await admin.addToCounter(`budget:${key.id}:${month}`, 0, Date.now() + 86_400_000);
      // Rounding per charge aside, what the budget counts is what the records cost.
      expect(Math.abs(counted - spentMicros)).toBeLessThanOrEqual(records.length);
    } finally {
      proxy.close();
      await slowGateway?.close();
    }
  }, 90_000);
});

describe('DynamoDB answering one limit write too late', () => {
  it('a key of one concurrent call is neither refused nor blocked after, though the store answered its slot late', async () => {
    const proxy = await faultyProxy(local.endpoint);
    let slowGateway: RunningServer | undefined;
    try {
      slowGateway = await gatewayThrough(proxy);
      const key = await storeKey(admin, { concurrentRequests: 1 });
      const ask = () =>
        postMessages(slowGateway!.url, hiBody('claude-haiku-4-5', false, 10), { 'x-api-key': key.secret });
      // Later than the client's 4 s request timeout: the slot is taken, and the SDK sends the take again.
      proxy.state.lateUpdatesMs = 4_500;
      proxy.state.lateUpdates = 1;
      const first = await ask();
      expect(first.status, await first.text()).toBe(200);
      // The slot went back (all of the key's slots were taken: at once); the next call takes it again.
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (let i = 0; i < 2; i++) {
        const res = await ask();
        expect(res.status, await res.text()).toBe(200);
      }
    } finally {
      proxy.close();
      await slowGateway?.close();
    }
  }, 60_000);

  it('a key of one call a minute is not refused its first, though the store answered its lease late', async () => {
    const proxy = await faultyProxy(local.endpoint);
    let slowGateway: RunningServer | undefined;
    try {
      slowGateway = await gatewayThrough(proxy);
      const key = await storeKey(admin, { requestsPerMinute: 1 });
      proxy.state.lateUpdatesMs = 4_500;
      proxy.state.lateUpdates = 1;
      const res = await postMessages(slowGateway.url, hiBody('claude-haiku-4-5', false, 10), {
        'x-api-key': key.secret,
      });
      expect(res.status, await res.text()).toBe(200);
    } finally {
      proxy.close();
      await slowGateway?.close();
    }
  }, 60_000);
});

describe('a gateway whose AWS role lacks a DynamoDB permission serve needs', () => {
  it('answers a key lookup it may not make with a non-retryable error naming the action, and logs it once with the table', async () => {
    const proxy = await iamProxy(local.endpoint);
    const log = capturedLog();
    let denied: RunningServer | undefined;
    try {
      denied = await gatewayThrough(proxy, { logger: log.logger });
      const key = await storeKey(admin);
      proxy.deny.add('GetItem');
      const started = log.lines.length;
      for (let i = 0; i < 3; i++) {
        const res = await postMessages(denied.url, hiBody('claude-haiku-4-5', false, 10), {
          'x-api-key': key.secret,
        });
        const text = await res.text();
        expect(res.status, text).toBe(502);
        expect(res.headers.get('x-should-retry')).toBe('false');
        expect(res.headers.get('retry-after')).toBeNull();
        const body = JSON.parse(text) as { type: string; error: { type: string; message: string } };
        expect(body).toMatchObject({ type: 'error', error: { type: 'api_error' } });
        expect(body.error.message).toMatch(/dynamodb:GetItem/);
        // Nothing of the AWS account, role or table.
        expect(text).not.toMatch(new RegExp(`${DENIED_ACCOUNT}|arn:|abproxy-gateway|${PREFIX}-keys`));
      }
      const warnings = log.lines.slice(started).filter((line) => line.level >= 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        action: 'dynamodb:GetItem',
        table: `${PREFIX}-keys`,
        code: 'AccessDeniedException',
      });
    } finally {
      await denied?.close();
      await proxy.close();
    }
  });

  it('fails abproxy doctor, naming the action, for each operation serve needs (DescribeTable and Scan passing said ok)', async () => {
    const proxy = await iamProxy(local.endpoint);
    const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.url;
    const check = async () =>
      (await checkStorage(testConfig({ mode: 'team', tablePrefix: PREFIX }))).find((c) => c.name === 'store');
    try {
      expect(await check()).toMatchObject({ status: 'ok' });
      for (const [operation, table] of [
        ['GetItem', 'keys'],
        ['PutItem', 'usage'],
        ['BatchWriteItem', 'usage'],
        ['UpdateItem', 'limits'],
      ] as const) {
        proxy.deny.clear();
        proxy.deny.add(operation);
        const refused = await check();
        expect(refused, operation).toMatchObject({ status: 'fail' });
        expect(refused?.detail).toMatch(`dynamodb:${operation} on ${PREFIX}-${table}: AccessDeniedException`);
      }
      // What sign-in needs is checked when sign-in is on: its table, and the wrong-code count it reads.
      const withSignin = async () =>
        (
          await checkStorage(
            testConfig({
              mode: 'team',
              tablePrefix: PREFIX,
              oidcIssuer: 'https://idp.example/',
              oidcClientId: 'gw',
            }),
          )
        ).find((c) => c.name === 'store');
      for (const [operation, table] of [
        ['PutItem', 'signin'],
        ['GetItem', 'limits'],
      ] as const) {
        proxy.deny.clear();
        proxy.deny.add(`${operation} ${PREFIX}-${table}`);
        expect(await check(), operation).toMatchObject({ status: 'ok' });
        const signin = await withSignin();
        expect(signin, operation).toMatchObject({ status: 'fail' });
        expect(signin?.detail).toMatch(`dynamodb:${operation} on ${PREFIX}-${table}: AccessDeniedException`);
      }
      // The probes left nothing behind.
      proxy.deny.clear();
      const usage = await admin.listUsage({
        since: '2000-01-01T00:00:00.000Z',
        keyId: 'abproxy-doctor-probe',
      });
      expect(usage).toEqual([]);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
      await proxy.close();
    }
  });
});

describe('an instance killed with SIGKILL, then started again on its home', () => {
  it('a call answered and stored before the kill keeps its record: the spool replay does not overwrite it with status 0', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const master = 'kill-test-master';
    const env = {
      ...emulatorAwsEnv(emulator.url, emulator.mantleUrl),
      AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
      ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-team-kill-')),
      ABPROXY_MODE: 'team',
      ABPROXY_TABLE_PREFIX: PREFIX,
      MASTER_API_KEY: master,
      ABPROXY_USAGE_DRAIN_MS: '200',
    };
    const first = await startServe(env);
    // A long call still running at the kill keeps the spool file where both calls began; the short
    // one ends (and is stored) after that file rotated, so its final line is in a later file.
    emulator.enqueue(
      { model: 'sonnet', text: 'long', delayMs: 30_000 },
      { model: 'haiku', text: 'short', delayMs: 1_000 },
    );
    const ask = (model: string) =>
      postMessages(first.url, hiBody(model, false, 10), { 'x-api-key': master }).catch(() => undefined);
    const long = ask('claude-sonnet-4-5');
    expect((await ask('claude-haiku-4-5'))?.status).toBe(200);
    const short = async () =>
      (await admin.listUsage({ since, keyId: 'master' })).find((r) => r.model === 'claude-haiku-4-5');
    for (let i = 0; i < 40 && (await short()) === undefined; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await short()).toMatchObject({ status: 200, outputTokens: expect.any(Number) });

    first.proc.kill('SIGKILL');
    await first.exited;
    await long;
    const second = await startServe(env);
    try {
      const cut = async () =>
        (await admin.listUsage({ since, keyId: 'master' })).find((r) => r.model === 'claude-sonnet-4-5');
      for (let i = 0; i < 60 && (await cut()) === undefined; i++)
        await new Promise((r) => setTimeout(r, 100));
      // The cut call is recorded as cut (status 0); the answered one stays answered.
      expect(await cut()).toMatchObject({ status: 0 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const records = await admin.listUsage({ since, keyId: 'master' });
      expect(records).toHaveLength(2);
      const answered = records.find((r) => r.model === 'claude-haiku-4-5');
      expect(answered?.status).toBe(200);
      expect(answered?.estimated).toBeUndefined();
    } finally {
      second.proc.kill('SIGTERM');
      await second.exited;
    }
  }, 90_000);
});

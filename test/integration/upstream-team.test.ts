/**
 * Team mode with several upstreams: three `abproxy serve` processes on the same DynamoDB Local tables and
 * the same ABPROXY_UPSTREAMS (two emulators; the primary throttles 50% of calls, later refuses every
 * connection). They stay consistent: the same routing, no client-visible failure on any of them, one
 * shared key limit counted once per client request (not per attempt), usage records from all three in the
 * shared table naming the upstream that served. Breakers are per instance (see README "Several
 * upstreams"): each instance learns the dead primary on its own, after a bounded number of attempts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import {
  type RecordedRequest,
  startEmulator,
  TEST_ACCESS_KEY_ID,
  TEST_SECRET_ACCESS_KEY,
} from '../emulator/server.ts';
import { ask, type Emulator, storeKey } from '../helpers/gateway.ts';
import { type Spawned, servingUrl, spawnAbproxy } from '../helpers/process.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';

const PREFIX = 'pool';
const MASTER = 'team-pool-master';
const CLAUDE = 'claude-sonnet-4-5-20250929';
const PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

const modelCalls = (emulator: Emulator): RecordedRequest[] =>
  emulator.requests.filter((r) => r.operation.startsWith('Invoke') || r.operation.startsWith('Converse'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let local: DynamoLocal;
let primary: Emulator;
let secondary: Emulator;
let admin: DynamoStore;
const instances: { serve: Spawned; url: string; home: string }[] = [];

beforeAll(async () => {
  [local, primary, secondary] = await Promise.all([
    startDynamoLocal(),
    startEmulator({ port: 0 }),
    startEmulator({ port: 0 }),
  ]);
  const client = local.client();
  await setupTables(client, tableSchemas(PREFIX));
  admin = new DynamoStore({ tablePrefix: PREFIX, region: 'us-east-1', client });
  const credentials = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY };
  const upstreams = [
    {
      name: 'primary',
      region: 'us-east-1',
      endpoint: primary.url,
      controlEndpoint: primary.url,
      credentials,
    },
    {
      name: 'secondary',
      region: 'us-east-1',
      endpoint: secondary.url,
      controlEndpoint: secondary.url,
      credentials,
    },
  ];
  const started = await Promise.all(
    [0, 1, 2].map(async () => {
      const home = mkdtempSync(join(tmpdir(), 'abproxy-team-pool-'));
      const serve = spawnAbproxy(
        ['serve', '--port', '0', '--mode', 'team', '--table-prefix', PREFIX, '--plain'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: home,
            ABPROXY_HOME: home,
            AWS_ENDPOINT_URL_DYNAMODB: local.endpoint,
            AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
            AWS_SECRET_ACCESS_KEY: 'local-secret',
            AWS_REGION: 'us-east-1',
            ABPROXY_UPSTREAMS: JSON.stringify(upstreams),
            ABPROXY_UPSTREAM_COOLDOWN_MS: '60000',
            ABPROXY_KEY_CACHE_MS: '1000',
            ABPROXY_USAGE_DRAIN_MS: '100',
            MASTER_API_KEY: MASTER,
            ABPROXY_SIGNING_SECRET: 'team-pool-secret',
            LOG_LEVEL: 'warn',
          },
        },
      );
      return { serve, url: await servingUrl(serve), home };
    }),
  );
  instances.push(...started);
}, 120_000);

afterAll(async () => {
  await Promise.all(instances.map((i) => i.serve.stop()));
  for (const i of instances) rmSync(i.home, { recursive: true, force: true });
  await admin?.close();
  await local?.stop();
  await primary?.close();
  await secondary?.close();
});

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { 'x-api-key': MASTER } })).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('three serve instances, one upstream list, DynamoDB Local', () => {
  it('no client-visible failure while the primary throttles 50%; one key limit shared across instances, counted per request', async () => {
    primary.setFaults({ throttle: { percent: 50 } });
    const key = await storeKey(admin, { requestsPerMinute: 9 });
    const served: string[] = [];
    // Round robin over the instances: nine requests, the key's limit, all answered.
    for (let i = 0; i < 9; i++) {
      const client = new Anthropic({ baseURL: instances[i % 3]!.url, apiKey: key.secret, maxRetries: 0 });
      const { data, response } = await client.messages
        .create({ model: CLAUDE, max_tokens: 50, messages: ask(`call ${i}`) })
        .withResponse();
      expect(data.content[0]).toMatchObject({ type: 'text' });
      served.push(response.headers.get('x-abproxy-upstream') ?? '');
    }
    // Every instance sends every call to the primary first (list order) and its throttled ones elsewhere.
    expect(modelCalls(primary)).toHaveLength(9);
    const throttled = primary.requests.filter((r) => r.status === 429).length;
    expect(throttled).toBe(4);
    expect(served.filter((s) => s === 'secondary')).toHaveLength(throttled);
    expect(served.filter((s) => s === 'primary')).toHaveLength(9 - throttled);

    // The tenth request is over the key's limit on whichever instance: failed attempts did not count.
    const tenth = await fetch(`${instances[0]!.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': key.secret,
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({ model: CLAUDE, max_tokens: 50, messages: ask('one too many') }),
    });
    expect(tenth.status).toBe(429);
    expect(((await tenth.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    expect(modelCalls(primary)).toHaveLength(9);

    // Usage from all three instances lands in the shared table, naming the upstream and the failed attempts.
    let records = await admin.listUsage({ since: '2000-01-01T00:00:00Z', keyId: key.id });
    for (let i = 0; i < 100 && records.length < 9; i++) {
      await sleep(100);
      records = await admin.listUsage({ since: '2000-01-01T00:00:00Z', keyId: key.id });
    }
    const ok = records.filter((r) => r.status === 200);
    expect(ok).toHaveLength(9);
    expect(ok.filter((r) => r.upstream === 'secondary' && r.failedAttempts === 1)).toHaveLength(throttled);
    expect(ok.filter((r) => r.upstream === 'primary' && r.failedAttempts === 0)).toHaveLength(9 - throttled);
  }, 60_000);

  it('a dead primary: each instance opens its own breaker after a bounded number of attempts and serves from the secondary', async () => {
    primary.setFaults({ refuseConnections: true });
    const calls = 8;
    for (const { url } of instances) {
      const client = new Anthropic({ baseURL: url, apiKey: MASTER, maxRetries: 0 });
      for (let i = 0; i < calls; i++) {
        const { response } = await client.messages
          .create({ model: CLAUDE, max_tokens: 20, messages: ask(`dead ${i}`) })
          .withResponse();
        expect(response.headers.get('x-abproxy-upstream')).toBe('secondary');
      }
    }
    for (const { url } of instances) {
      // Per instance: a few failed attempts (the threshold), then the primary is skipped.
      const faults = await metric(
        url,
        'abproxy_upstream_attempts_total',
        'upstream="primary",outcome="network"',
      );
      expect(faults).toBeGreaterThanOrEqual(1);
      expect(faults).toBeLessThanOrEqual(3);
      expect(
        await metric(url, 'abproxy_upstream_breaker_state', `upstream="primary",model="${PROFILE}"`),
      ).toBe(2);
    }
    primary.setFaults({});
  }, 60_000);
});

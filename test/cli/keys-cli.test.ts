/** `abproxy keys …` and `abproxy tables setup` as CI scripts run them: child processes, --json, exit codes. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';

const root = join(import.meta.dirname, '../..');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin/abproxy.js'), ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'error', ...env },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

const json = (result: Result) => JSON.parse(result.stdout);

describe('keys in solo mode', () => {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-cli-keys-'));
  const env = { ABPROXY_HOME: home };
  let emulator: Emulator;
  let gateway: RunningServer;

  beforeAll(async () => {
    emulator = await startBedrockEmulator();
    gateway = await startServer(testConfig({ dbFile: join(home, 'abproxy.db'), masterApiKey: undefined }));
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });

  const ask = (key: string) =>
    fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'qwen.qwen3-coder-480b-a35b-v1:0',
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });

  it('create --json prints the secret once; list/show never do; the file holds only the hash', async () => {
    const created = await cli(
      [
        'keys',
        'create',
        '--name',
        'ci',
        '--user',
        'bob',
        '--service-tier',
        'flex',
        '--rate-limit',
        '60',
        '--tokens-per-minute',
        '5000',
        '--budget-usd',
        '2.5',
        '--models',
        'qwen.*, claude-*',
        '--expires',
        '30d',
        '--json',
      ],
      env,
    );
    expect(created.code).toBe(0);
    const key = json(created);
    expect(key).toMatchObject({
      name: 'ci',
      user: 'bob',
      service_tier: 'flex',
      rate_limit_rpm: 60,
      tokens_per_minute: 5000,
      budget_usd: 2.5,
      models: ['qwen.*', 'claude-*'],
      status: 'active',
    });
    expect(key.key).toMatch(/^abp_[0-9A-Za-z]{43}$/);
    expect(key.key.startsWith(key.prefix)).toBe(true);
    expect(Date.parse(key.expires_at) - Date.parse(key.created_at)).toBe(30 * 86_400_000);

    const [listed, shown, listedText] = await Promise.all([
      cli(['keys', 'list', '--json'], env),
      cli(['keys', 'show', key.id, '--json'], env),
      cli(['keys', 'list'], env),
    ]);
    expect(json(listed)).toEqual([expect.objectContaining({ id: key.id, prefix: key.prefix })]);
    expect(json(shown).id).toBe(key.id);
    for (const out of [listed, shown, listedText]) expect(out.stdout).not.toContain(key.key);
    expect(listedText.stdout).toContain(key.id);
    expect(listedText.stdout).toMatch(/^ID\s+PREFIX\s+NAME\s+USER\s+TIER\s+MODELS\s+STATUS\s+CREATED\n/);
    const bytes = readFileSync(join(home, 'abproxy.db')).toString('latin1');
    let wal = '';
    try {
      wal = readFileSync(join(home, 'abproxy.db-wal')).toString('latin1');
    } catch {}
    expect(bytes + wal).not.toContain(key.key);

    // The running gateway accepts it, and refuses it as soon as `keys revoke` returns.
    expect((await ask(key.key)).status).toBe(200);
    const revoked = await cli(['keys', 'revoke', key.prefix, '--json'], env);
    expect(revoked.code).toBe(0);
    expect(json(revoked)).toMatchObject({ id: key.id, status: 'revoked', result: 'revoked' });
    expect((await ask(key.key)).status).toBe(401);
    const again = await cli(['keys', 'revoke', key.id], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already revoked/);
  });

  it('imports a seed sk- key, which then authenticates', async () => {
    const seed = 'sk-seed-0123456789abcdefghij';
    const imported = await cli(['keys', 'import', seed, '--name', 'legacy', '--json'], env);
    expect(imported.code).toBe(0);
    expect(json(imported)).toMatchObject({ key: seed, prefix: 'sk-seed-012', name: 'legacy' });
    expect((await ask(seed)).status).toBe(200);
    const dup = await cli(['keys', 'create', '--key', seed], env);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/exists already/);
  });

  it('refuses an empty key to import (an unset variable) instead of making a new one', async () => {
    const before = json(await cli(['keys', 'list', '--json'], env)).length;
    const results = await Promise.all([
      cli(['keys', 'import', '', '--json'], env),
      cli(['keys', 'import', '  '], env),
      cli(['keys', 'create', '--key', ''], env),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(json(results[0]!).error.message).toMatch(/--key: .*empty/);
    expect(results.every((r) => !/abp_/.test(r.stdout))).toBe(true);
    expect(json(await cli(['keys', 'list', '--json'], env))).toHaveLength(before);
  });

  it('exits 2 on usage errors and 1 when a key is not found, without prompting', async () => {
    const results = await Promise.all([
      cli(['keys', 'create', '--service-tier', 'gold'], env),
      cli(['keys', 'create', '--expires', 'soon'], env),
      cli(['keys', 'create', '--rate-limit', '-3'], env),
      cli(['keys', 'create', '--key', 'not-a-key'], env),
      cli(['keys', 'list', '--mode', 'cluster'], env),
      cli(['keys', 'show', 'key_missing'], env),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 2, 2, 1]);
    expect(results[0]!.stderr).toMatch(/--service-tier: expected one of default, flex, priority, reserved/);
    expect(results[5]!.stderr).toMatch(/no key 'key_missing'/);
  });

  it('reports failures as JSON on stdout under --json, with the same exit code', async () => {
    const missing = await cli(['keys', 'show', 'key_missing', '--json'], env);
    expect(missing.code).toBe(1);
    expect(json(missing)).toEqual({
      error: { message: expect.stringMatching(/no key 'key_missing'/), exitCode: 1 },
    });
    const usage = await cli(['keys', 'create', '--service-tier', 'gold', '--json'], env);
    expect(usage.code).toBe(2);
    expect(json(usage).error.exitCode).toBe(2);
  });

  it('will not revoke or show a key named by a prefix too short to be meant (a, abp_)', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'abproxy-cli-db-')), 'one.db');
    const created = json(await cli(['keys', 'create', '--db', db, '--json'], env));
    const results = await Promise.all([
      cli(['keys', 'revoke', 'a', '--db', db], env),
      cli(['keys', 'revoke', 'abp_', '--db', db, '--json'], env),
      cli(['keys', 'show', 'abp', '--db', db], env),
    ]);
    expect(results.map((r) => r.code)).toEqual([2, 2, 2]);
    expect(results[0]!.stderr).toMatch(/'a' is too short to name a key/);
    expect(json(results[1]!).error.exitCode).toBe(2);
    // Eight characters of its prefix still name it.
    const shown = await cli(['keys', 'show', created.prefix.slice(0, 8), '--db', db, '--json'], env);
    expect(json(shown)).toMatchObject({ id: created.id, status: 'active' });
  });

  it('--db puts the keys in another file', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'abproxy-cli-db-')), 'other.db');
    const created = await cli(['keys', 'create', '--db', db, '--json'], env);
    const [there, here] = await Promise.all([
      cli(['keys', 'list', '--db', db, '--json'], env),
      cli(['keys', 'show', json(created).id], env),
    ]);
    expect(json(there).map((k: { id: string }) => k.id)).toEqual([json(created).id]);
    expect(here.code).toBe(1);
  });
});

describe('keys and tables in team mode (DynamoDB Local)', () => {
  let local: DynamoLocal;
  let env: Record<string, string>;

  beforeAll(async () => {
    local = await startDynamoLocal();
    env = {
      ...local.env,
      ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-cli-team-')),
      ABPROXY_MODE: 'team',
    };
  });
  afterAll(async () => {
    await local?.stop();
  });

  it('keys before tables setup fail with a clear message', async () => {
    const result = await cli(['keys', 'list', '--table-prefix', 'none'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/tables setup/);
  });

  it('tables setup creates, then leaves; keys create/list/revoke work against the tables', async () => {
    const dry = await cli(['tables', 'setup', '--table-prefix', 'cli', '--dry-run', '--json'], env);
    expect(dry.code).toBe(0);
    expect(json(dry).tables.map((t: { action: string }) => t.action)).toEqual([
      'would-create',
      'would-create',
      'would-create',
      'would-create',
    ]);
    const setup = await cli(['tables', 'setup', '--table-prefix', 'cli', '--json'], env);
    expect(setup.code).toBe(0);
    // Progress goes to stderr, and not at all under --json.
    expect(setup.stderr).toBe('');
    expect(json(setup).tables).toEqual([
      expect.objectContaining({ table: 'cli-keys', action: 'created', status: 'ACTIVE' }),
      expect.objectContaining({
        table: 'cli-usage',
        action: 'created',
        status: 'ACTIVE',
        ttl: 'enabled-now',
      }),
      expect.objectContaining({
        table: 'cli-limits',
        action: 'created',
        status: 'ACTIVE',
        ttl: 'enabled-now',
      }),
      expect.objectContaining({
        table: 'cli-signin',
        action: 'created',
        status: 'ACTIVE',
        ttl: 'enabled-now',
      }),
    ]);
    const again = await cli(['tables', 'setup', '--table-prefix', 'cli'], env);
    expect(again.stdout).toMatch(/cli-keys: exists \(ACTIVE\)/);
    expect(again.stderr).toBe(
      'setting up the DynamoDB tables\n' +
        'cli-keys: creating if missing, waiting until ACTIVE\n' +
        'cli-usage: creating if missing, waiting until ACTIVE\n' +
        'cli-limits: creating if missing, waiting until ACTIVE\n' +
        'cli-signin: creating if missing, waiting until ACTIVE\n' +
        '4 tables ready in us-east-1\n',
    );

    const teamEnv = { ...env, ABPROXY_TABLE_PREFIX: 'cli' };
    const created = json(
      await cli(['keys', 'create', '--name', 'team', '--service-tier', 'priority', '--json'], teamEnv),
    );
    const listed = await cli(['keys', 'list', '--json'], teamEnv);
    expect(json(listed)).toEqual([expect.objectContaining({ id: created.id, service_tier: 'priority' })]);
    expect(listed.stdout).not.toContain(created.key);
    const revoked = await cli(['keys', 'revoke', created.id, '--json'], teamEnv);
    expect(json(revoked)).toMatchObject({ status: 'revoked', result: 'revoked' });
  });

  it("keys on a table that is not abproxy's: a clear message naming tables setup, no stack trace", async () => {
    await local.client().send(
      new CreateTableCommand({
        TableName: 'other-keys',
        AttributeDefinitions: [{ AttributeName: 'x', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'x', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const result = await cli(['keys', 'create', '--table-prefix', 'other'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^abproxy: DynamoDB refused .*ValidationException.*tables setup --table-prefix other --dry-run/,
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
    // Listing scans such a table without an error: it must not read as "no keys yet".
    const listed = await cli(['keys', 'list', '--table-prefix', 'other'], env);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/tables 'other-\*' are not abproxy's .*other-keys/);
    expect(listed.stdout).not.toContain('no keys yet');
  });
});

describe('team mode with DynamoDB unreachable', () => {
  // A loopback port nothing listens on: every DynamoDB call is refused at once.
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
    AWS_SECRET_ACCESS_KEY: 'local-secret',
    AWS_REGION: 'us-east-1',
    ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-cli-down-')),
    ABPROXY_MODE: 'team',
  };

  it.each([
    [['keys', 'list']],
    [['keys', 'create', '--name', 'x']],
    [['keys', 'revoke', 'key_x']],
    [['tables', 'setup']],
    [['usage']],
  ])('%j says DynamoDB cannot be reached, without a stack trace', async (args) => {
    const result = await cli(args, env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /DynamoDB in us-east-1 could not be reached \(.*ECONNREFUSED 127\.0\.0\.1:9\)/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('says so in the JSON error with --json', async () => {
    const result = await cli(['keys', 'create', '--json'], env);
    expect(result.code).toBe(1);
    expect(json(result).error.message).toMatch(/DynamoDB in us-east-1 could not be reached/);
  });
});

/**
 * The image's start command run as a plain process (no Docker engine here): ENTRYPOINT + CMD of the
 * Dockerfile from the repository root (its WORKDIR), with the image's ENV plus what the CDK task
 * definition sets, and nothing else. Team mode runs on DynamoDB Local tables made by `tables setup`, and a
 * key made by `keys create --mode team` (the README's steps) calls /v1/messages on Bedrock (the emulator).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulator/server.ts';
import { runAbproxy, runProcess } from '../helpers/process.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';
import { execForm, last, readDockerfile, stageEnv } from './dockerfile.ts';
import { containerEnv, MASTER_KEY, ROOT, type ServeProcess, spawnServe } from './serve-process.ts';

const final = readDockerfile().stages.at(-1)!;
const command = [...execForm(last(final, 'ENTRYPOINT')!.args), ...execForm(last(final, 'CMD')!.args)];
const TABLE_PREFIX = 'deploytest';

/** Runs an admin command (`abproxy …`) to completion. */
function cli(args: string[], env: Record<string, string>) {
  return runAbproxy(args, { env, cwd: ROOT });
}

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let dynamo: DynamoLocal;
let serve: ServeProcess;
let teamKey: string;
let base: string;
let port: string;

beforeAll(async () => {
  [emulator, dynamo] = await Promise.all([startEmulator({ port: 0 }), startDynamoLocal()]);
  const env = {
    ...stageEnv(final),
    ...containerEnv(emulator.url),
    // DynamoDB Local accepts any credentials; the Bedrock emulator wants its own (containerEnv's).
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    // What the task definition sets (deploy/lib/abproxy-stack.ts), with a free port here.
    ABPROXY_MODE: 'team',
    ABPROXY_TABLE_PREFIX: TABLE_PREFIX,
    ABPROXY_PORT: '0',
    ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-container-')),
  };
  const setup = await cli(['tables', 'setup', '--table-prefix', TABLE_PREFIX], env);
  expect(setup.code, setup.stderr).toBe(0);
  const created = await cli(
    ['keys', 'create', '--mode', 'team', '--table-prefix', TABLE_PREFIX, '--name', 'ci', '--json'],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  teamKey = (JSON.parse(created.stdout) as { key: string }).key;
  expect(teamKey).toMatch(/^abp_/);
  expect(command[0]).toBe('node');
  serve = spawnServe(command.slice(1), env);
  base = await serve.url;
  port = new URL(base).port;
}, 90_000);

afterAll(async () => {
  if (serve?.proc.exitCode === null) {
    serve.proc.kill('SIGTERM');
    await serve.exited;
  }
  await Promise.all([emulator?.close(), dynamo?.stop()]);
});

describe('container start command', () => {
  it('runs the image command unchanged (team mode), bound to all interfaces, printing one line', () => {
    expect(serve.proc.spawnargs.slice(1)).toEqual(command.slice(1));
    expect(command.slice(-2)).toEqual(['--mode', 'team']);
    expect(serve.output().stdout).toMatch(/^abproxy listening on http:\/\/0\.0\.0\.0:\d+\n$/);
  });

  it('answers /health without a key and passes the image HEALTHCHECK', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    const check = execForm(/CMD\s+(.*)$/.exec(last(final, 'HEALTHCHECK')!.args)![1]!);
    const { code } = await runProcess(process.execPath, check.slice(1), {
      env: { PATH: process.env.PATH ?? '', ABPROXY_PORT: port },
    });
    expect(code).toBe(0);
  });

  it('requires a key on a non-loopback bind', async () => {
    const res = await fetch(`${base}/v1/models`);
    expect(res.status).toBe(401);
  });

  it.each([
    ['a team key made by `keys create --mode team`', () => teamKey],
    ['the master key from the environment', () => MASTER_KEY],
  ])('serves /v1/messages from Bedrock with %s', async (_, key) => {
    emulator.enqueue({ text: 'hello from the container' });
    const res = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key(), 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({
        model: 'qwen.qwen3-coder-480b-a35b-v1:0',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status, serve.output().stderr).toBe(200);
    const body = (await res.json()) as { content: { type: string; text: string }[] };
    expect(body.content[0]).toMatchObject({ type: 'text', text: 'hello from the container' });
  });

  it('drains and exits 0 on SIGTERM, as `docker stop` and ECS send it', async () => {
    serve.proc.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});

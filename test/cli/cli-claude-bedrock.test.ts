/**
 * `abproxy claude --bedrock`: Claude Code in its Bedrock mode through the gateway's Bedrock-format door.
 * With a fake claude, the environment it gets; with the real CLI, a print-mode answer from the emulator
 * through `/model/…/invoke-with-response-stream`, and the usage recorded under the launcher's key.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeBinary } from '../e2e/harness.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { runProcess } from '../helpers/process.ts';
import { cliEnv, fakeClaude, parseFake, root, runCli, tempHome } from './cli-helpers.ts';

let emulator: Emulator;
let bin: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  bin = mkdtempSync(join(tmpdir(), 'abproxy-fake-bin-'));
  fakeClaude(bin);
});
afterAll(async () => {
  await emulator.close();
});

describe('abproxy claude --bedrock with a fake claude', () => {
  it("sets Claude Code's Bedrock mode at the gateway, with the key as a Bedrock API key", async () => {
    const home = tempHome();
    // The user's profile (which the gateway uses, and Claude Code must not): the emulator's keys.
    mkdirSync(join(home, '.aws'));
    writeFileSync(
      join(home, '.aws', 'credentials'),
      '[someone]\naws_access_key_id = AKIDEMULATOR\naws_secret_access_key = emulator-secret\n',
    );
    const run = await runCli(
      ['claude', '--bedrock', '--model', 'claude-sonnet-4-5', '--', '-p', 'hi'],
      cliEnv(home, emulator.url, {
        PATH: `${bin}:${process.env.PATH}`,
        ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
        ANTHROPIC_AUTH_TOKEN: 'stale-token',
        CLAUDE_CODE_SKIP_BEDROCK_AUTH: '1',
        AWS_PROFILE: 'someone',
      }),
    );
    expect(run.code, run.stderr).toBe(0);
    const { env } = parseFake(run.stdout);
    expect(env.CLAUDE_CODE_USE_BEDROCK).toBe('1');
    expect(env.ANTHROPIC_BEDROCK_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(env.AWS_BEARER_TOKEN_BEDROCK).toBeTruthy();
    expect(env.AWS_REGION).toBe('us-east-1');
    expect(env.ANTHROPIC_MODEL).toBe('claude-sonnet-4-5');
    for (const name of [
      'ANTHROPIC_BASE_URL',
      'ANTHROPIC_AUTH_TOKEN',
      'CLAUDE_CODE_SKIP_BEDROCK_AUTH',
      'AWS_PROFILE',
    ]) {
      expect(env[name], name).toBeUndefined();
    }
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
  });

  it('refuses an open model with a usage error (Bedrock mode sends Claude bodies)', async () => {
    const run = await runCli(
      ['claude', '--bedrock', '--model', 'qwen.qwen3-coder-480b-a35b-v1:0', '--', '-p', 'hi'],
      cliEnv(tempHome(), emulator.url, { PATH: `${bin}:${process.env.PATH}` }),
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--bedrock serves Claude models only/);
  });
});

describe.skipIf(!claudeBinary())('abproxy claude --bedrock with the real Claude Code CLI', () => {
  it('answers through the Bedrock-format door and records the usage under its key', async () => {
    emulator.reset();
    emulator.enqueue({
      model: 'claude-sonnet-4-5',
      text: 'PONG through the door',
      usage: { inputTokens: 77, outputTokens: 5 },
    });
    const home = tempHome();
    const project = mkdtempSync(join(tmpdir(), 'abproxy-claude-proj-'));
    const env = cliEnv(home, emulator.url, {
      XDG_CONFIG_HOME: join(home, '.config'),
      SHELL: '/bin/bash',
      TERM: 'dumb',
      IS_SANDBOX: '1',
    });
    const { code, stdout, stderr } = await runProcess(
      process.execPath,
      [
        join(root, 'bin/abproxy.js'),
        'claude',
        '--bedrock',
        '--claude-bin',
        join(root, 'node_modules/.bin/claude'),
        '--model',
        'claude-sonnet-4-5',
        '--',
        '-p',
        'hi',
        '--output-format',
        'json',
      ],
      { env, cwd: project, timeoutMs: 60_000 },
    );
    const output = `${stdout}\n${stderr}`;
    expect(code, output).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { result?: string };
    expect(result.result).toContain('PONG through the door');
    const turn = emulator.requests.find((r) => r.operation === 'InvokeModelWithResponseStream');
    expect(turn?.modelId, output).toMatch(/anthropic\.claude-sonnet-4-5/);

    const usage = await runCli(['usage', '--json', '--by', 'model'], env);
    expect(usage.code, usage.stderr).toBe(0);
    const report = JSON.parse(usage.stdout) as { groups: { group: string; input_tokens: number }[] };
    // The turn, metered from Bedrock's own counts (Claude Code's start-up probes are other rows).
    expect(report.groups.find((g) => g.group === 'claude-sonnet-4-5')).toMatchObject({
      requests: 1,
      input_tokens: 77,
      output_tokens: 5,
    });
  }, 90_000);

  it("answers with no --model: Claude Code's default (Opus 5.5), which only bedrock-mantle serves", async () => {
    emulator.reset();
    // Claude Code's start-up probe (max_tokens 1) takes the first answer, its turn the second.
    const reply = {
      model: 'claude-opus-5-5',
      text: 'PONG from mantle',
      usage: { inputTokens: 66, outputTokens: 4 },
    };
    emulator.enqueue(reply, reply);
    const home = tempHome();
    const project = mkdtempSync(join(tmpdir(), 'abproxy-claude-proj-'));
    const env = cliEnv(home, emulator.url, {
      AWS_ENDPOINT_URL_BEDROCK_MANTLE: emulator.mantleUrl,
      XDG_CONFIG_HOME: join(home, '.config'),
      SHELL: '/bin/bash',
      TERM: 'dumb',
      IS_SANDBOX: '1',
    });
    const { code, stdout, stderr } = await runProcess(
      process.execPath,
      [
        join(root, 'bin/abproxy.js'),
        'claude',
        '--bedrock',
        '--claude-bin',
        join(root, 'node_modules/.bin/claude'),
        '--',
        '-p',
        'hi',
        '--output-format',
        'json',
      ],
      { env, cwd: project, timeoutMs: 60_000 },
    );
    const calls = emulator.requests.map((r) => `${r.operation} ${r.host} ${r.modelId} ${r.status}`);
    const output = `${stdout}\n${stderr}\n${calls.join('\n')}`;
    expect(code, output).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { result?: string };
    expect(result.result, output).toContain('PONG from mantle');
    // Claude Code sent InvokeModel(WithResponseStream) for us.anthropic.claude-opus-5-5; the door called
    // mantle's Messages API by the bare id, its body shaped so that nothing was refused (no beta Bedrock
    // lacks, no mid-conversation system message), and never the runtime's InvokeModel for that model.
    const answered = emulator.requests.filter((r) => r.operation === 'MessagesApi');
    expect(
      answered.map((r) => [r.host, r.modelId, r.status]),
      output,
    ).toEqual([
      ['mantle', 'anthropic.claude-opus-5-5', 200],
      ['mantle', 'anthropic.claude-opus-5-5', 200],
    ]);
    expect(answered.at(-1)?.body, output).toMatchObject({ stream: true });
    expect(
      emulator.requests.filter(
        (r) => r.operation.startsWith('InvokeModel') && /opus-5-5/.test(r.modelId ?? ''),
      ),
      output,
    ).toHaveLength(0);

    const usage = await runCli(['usage', '--json', '--by', 'model'], env);
    expect(usage.code, usage.stderr).toBe(0);
    const report = JSON.parse(usage.stdout) as { groups: { group: string; input_tokens: number }[] };
    expect(
      report.groups.find((g) => g.group === 'us.anthropic.claude-opus-5-5'),
      usage.stdout,
    ).toMatchObject({ input_tokens: 132, output_tokens: 8 });
  }, 90_000);
});

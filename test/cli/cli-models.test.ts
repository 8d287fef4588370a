/** `abproxy models` against the Bedrock emulator: what a user (or a script reading --json) sees. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelsReport } from '../../src/cli/models.ts';
import { capabilitiesFor } from '../../src/models/capabilities.ts';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});

afterAll(async () => {
  await emulator.close();
});

describe('abproxy models', () => {
  it('--json lists callable text models with capabilities, and the Claude aliases with their targets', async () => {
    const run = await runCli(['models', '--json'], cliEnv(tempHome(), emulator.url));
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ModelsReport;
    expect(report.region).toBe('us-east-1');
    expect(report.source).toBe('live');
    // It came from the control plane, not from a table inside the gateway.
    expect(emulator.requests.some((r) => r.operation === 'ListFoundationModels')).toBe(true);

    const sonnet = report.models.find((m) => m.id === 'claude-sonnet-4-5-20250929');
    expect(sonnet).toMatchObject({
      bedrockId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      family: 'claude',
      callable: true,
      tools: true,
    });
    const qwen = report.models.find((m) => m.baseModelId === 'qwen.qwen3-coder-480b-a35b-v1:0');
    const caps = capabilitiesFor('qwen.qwen3-coder-480b-a35b-v1:0');
    expect(qwen).toMatchObject({
      contextWindow: caps.contextWindow,
      maxOutputTokens: caps.maxOutputTokens,
      images: caps.images,
      tiers: [...caps.tiers],
    });
    // Claude first; only text models that can be called.
    expect(report.models[0]!.family).toBe('claude');
    expect(report.models.every((m) => m.callable && m.text)).toBe(true);

    const alias = report.aliases.find((a) => a.alias === 'claude-sonnet-4-5');
    expect(alias).toMatchObject({ bedrockId: sonnet!.bedrockId, via: 'catalogue' });
    expect(report.aliases.find((a) => a.alias === 'haiku')?.bedrockId).toContain('haiku');
  });

  it('with ABPROXY_UPSTREAMS, reads the first upstream and says which upstreams serve each model', async () => {
    emulator.reset();
    const upstreams = [
      {
        name: 'west',
        region: 'us-west-2',
        endpoint: emulator.url,
        controlEndpoint: emulator.url,
        credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
        models: ['*anthropic.claude*'],
      },
      { name: 'east', region: 'us-east-1' },
    ];
    // The SDK's own endpoint settings lead nowhere: the catalogue must come from the upstream list.
    const env = cliEnv(tempHome(), 'http://127.0.0.1:9', { ABPROXY_UPSTREAMS: JSON.stringify(upstreams) });
    const run = await runCli(['models', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ModelsReport;
    expect(report.region).toBe('us-west-2');
    expect(emulator.requests.some((r) => r.operation === 'ListFoundationModels')).toBe(true);
    expect(report.models.find((m) => m.id === 'claude-sonnet-4-5-20250929')?.upstreams).toEqual([
      'west',
      'east',
    ]);
    expect(report.models.find((m) => m.baseModelId.startsWith('qwen.'))?.upstreams).toEqual(['east']);
    // East's catalogue could not be read (its endpoint leads nowhere): it is listed as serving what its
    // globs admit, as `serve` routes, and the operator is told why.
    expect(run.stderr).toMatch(/upstream east \(us-east-1\).*could not be read.*127\.0\.0\.1:9/);
  });

  it('shows model map entries from the config as aliases', async () => {
    const env = cliEnv(tempHome(), emulator.url, {
      ABPROXY_MODEL_MAP: JSON.stringify({ 'claude-opus-5-5': 'qwen.qwen3-coder-480b-a35b-v1:0' }),
    });
    const report = JSON.parse((await runCli(['models', '--json'], env)).stdout) as ModelsReport;
    expect(report.aliases[0]).toMatchObject({
      alias: 'claude-opus-5-5',
      bedrockId: 'qwen.qwen3-coder-480b-a35b-v1:0',
      via: 'config',
    });
  });

  it('prints a plain table without a terminal', async () => {
    const run = await runCli(['models'], cliEnv(tempHome(), emulator.url));
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^MODEL\s+BEDROCK ID\s+TOOLS\s+IMAGES\s+DOCS\s+REASONING\s+CACHING\s+TIERS\s+CONTEXT\s+MAX OUT$/,
    );
    expect(run.stdout).toMatch(
      /^claude-sonnet-4-5-20250929\s+us\.anthropic\.claude-sonnet-4-5-20250929-v1:0\s+yes/m,
    );
    expect(run.stdout).toMatch(/^ALIAS\s+RESOLVES TO\s+VIA$/m);
    // Catalogue progress: one line per step on stderr off a terminal.
    expect(run.stderr).toMatch(
      /^reading the Bedrock model catalogue in us-east-1\ncatalogue read: \d+ models/,
    );
  });

  it('fails with a pointer to doctor when Bedrock cannot be reached', async () => {
    const run = await runCli(['models', '--json'], cliEnv(tempHome(), 'http://127.0.0.1:9'));
    expect(run.code).toBe(1);
    // Under --json the failure is JSON on stdout, and no progress is shown.
    expect(run.stderr).toBe('');
    const { error } = JSON.parse(run.stdout) as { error: { message: string; exitCode: number } };
    expect(error.exitCode).toBe(1);
    expect(error.message).toMatch(/could not list Bedrock models in us-east-1/);
    expect(error.message).toContain('abproxy doctor');
  });

  it('lists a Claude model only the bedrock-mantle host serves, marked as such, from its model list', async () => {
    const env = cliEnv(tempHome(), emulator.url, { AWS_ENDPOINT_URL_BEDROCK_MANTLE: emulator.mantleUrl });
    const run = await runCli(['models', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ModelsReport;
    expect(report.models.find((m) => m.id === 'claude-opus-5-5')).toMatchObject({
      bedrockId: 'anthropic.claude-opus-5-5',
      callable: true,
      mantleOnly: true,
    });
    expect(report.models.find((m) => m.id === 'claude-sonnet-4-5-20250929')?.mantleOnly).toBeUndefined();
    expect(emulator.requests.some((r) => r.operation === 'ListMantleModels')).toBe(true);
  });

  it('says on stderr when the bedrock-mantle model list cannot be read, and still lists the rest', async () => {
    // A port nothing listens on: the mantle list fails, the runtime catalogue does not.
    const env = cliEnv(tempHome(), emulator.url, { AWS_ENDPOINT_URL_BEDROCK_MANTLE: 'http://127.0.0.1:9' });
    const run = await runCli(['models', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as ModelsReport;
    expect(report.models.length).toBeGreaterThan(0);
    expect(report.models.some((m) => m.mantleOnly)).toBe(false);
    expect(run.stderr).toMatch(/bedrock-mantle model list in us-east-1 could not be read .*not listed/);
  });
});

/**
 * `keys list`, `usage` and `models` as people see them: stable plain columns without a terminal or
 * with --plain (ink never loads), an ink table on a terminal.
 */
import { PassThrough } from 'node:stream';
import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('../../src/ui/load.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/ui/load.ts')>();
  return { loadViews: vi.fn(real.loadViews) };
});

const { loadViews } = await import('../../src/ui/load.ts');
const { keyJson, printKeys } = await import('../../src/cli/keys.ts');
const { printUsage, summarize } = await import('../../src/cli/usage.ts');
const { printModels } = await import('../../src/cli/models.ts');

function stream(isTTY: boolean) {
  const out = new PassThrough() as PassThrough & { isTTY: boolean; columns: number };
  out.isTTY = isTTY;
  out.columns = 200;
  let text = '';
  out.on('data', (chunk) => (text += chunk));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal colour codes
const uncoloured = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

const now = Date.parse('2026-05-12T00:00:00Z');
const keys = [
  keyJson(
    {
      id: 'key_01',
      hash: 'h',
      prefix: 'abp_AbCd',
      name: 'ci',
      user: 'dana',
      serviceTier: 'priority',
      models: ['qwen.*', 'claude-*'],
      limits: {},
      createdAt: '2026-05-10T08:09:10.123Z',
    },
    now,
  ),
  keyJson(
    {
      id: 'key_02',
      hash: 'h',
      prefix: 'abp_EfGh',
      limits: {},
      createdAt: '2026-05-11T00:00:00.000Z',
      revokedAt: '2026-05-11T01:00:00.000Z',
    },
    now,
  ),
];

const record = (keyId: string, model: string, status: number, costUsd: number) => ({
  id: Math.random().toString(36),
  keyId,
  at: '2026-05-10T10:00:00.000Z',
  model,
  serviceTier: 'default' as const,
  inputTokens: 1200,
  outputTokens: 34,
  cacheReadInputTokens: 5,
  cacheWriteInputTokens: 1,
  latencyMs: 50,
  status,
  requestId: 'req',
  costUsd,
});
const report = summarize(
  [record('key_01', 'm', 200, 0.0123), record('key_01', 'm', 0, 0), record('key_02', 'm', 429, 0)],
  { since: '2026-05-01T00:00:00.000Z' },
  'key',
);

beforeEach(() => vi.mocked(loadViews).mockClear());

describe('keys list', () => {
  it('prints stable plain columns without a terminal, and never loads ink', async () => {
    const s = stream(false);
    await printKeys(keys, {}, s.out);
    expect(s.text()).toBe(
      [
        'ID      PREFIX    NAME  USER  TIER      MODELS           STATUS   CREATED',
        'key_01  abp_AbCd  ci    dana  priority  qwen.*,claude-*  active   2026-05-10 08:09:10',
        'key_02  abp_EfGh  -     -     -         *                revoked  2026-05-11 00:00:00',
        '',
      ].join('\n'),
    );
    expect(loadViews).not.toHaveBeenCalled();
  });

  it('--plain on a terminal is the same plain text', async () => {
    const plain = stream(false);
    const tty = stream(true);
    await printKeys(keys, {}, plain.out);
    await printKeys(keys, { plain: true }, tty.out);
    expect(tty.text()).toBe(plain.text());
    expect(loadViews).not.toHaveBeenCalled();
  });

  it('says how to create one when there are none', async () => {
    const s = stream(true);
    await printKeys([], {}, s.out);
    expect(s.text()).toBe("no keys yet: create one with 'abproxy keys create'\n");
  });

  it('draws an ink table on a terminal', async () => {
    const s = stream(true);
    await printKeys(keys, {}, s.out);
    expect(loadViews).toHaveBeenCalledTimes(1);
    const lines = uncoloured(s.text()).split('\n');
    expect(lines[0]).toMatch(/^ID\s+PREFIX\s+NAME\s+USER\s+TIER\s+MODELS\s+STATUS\s+CREATED/);
    expect(lines[1]).toMatch(/^─+( +─+){7}$/);
    expect(lines[2]).toMatch(/^key_01\s+abp_AbCd\s+ci\s+dana\s+priority\s+qwen\.\*,claude-\*\s+active/);
  });
});

describe('usage', () => {
  it('prints a title and stable right-aligned columns without a terminal, and never loads ink', async () => {
    const s = stream(false);
    await printUsage(report, {}, s.out);
    expect(s.text()).toBe(
      [
        'usage since 2026-05-01T00:00:00.000Z',
        'KEY     REQUESTS  ERRORS  INTERRUPTED  ESTIMATED  INPUT  OUTPUT  CACHE READ  CACHE WRITE  COST USD',
        'key_01         2       1            1          0   2400      68          10            2    0.0123',
        'key_02         1       1            0          0   1200      34           5            1    0.0000',
        'total          3       2            1          0   3600     102          15            3    0.0123',
        '',
      ].join('\n'),
    );
    const tty = stream(true);
    await printUsage(report, { plain: true }, tty.out);
    expect(tty.text()).toBe(s.text());
    expect(loadViews).not.toHaveBeenCalled();
  });

  it('draws an ink table on a terminal', async () => {
    const s = stream(true);
    await printUsage({ ...report, by: 'model' }, {}, s.out);
    expect(loadViews).toHaveBeenCalledTimes(1);
    const lines = uncoloured(s.text()).split('\n');
    expect(lines[0]).toBe('usage since 2026-05-01T00:00:00.000Z');
    expect(lines[1]).toMatch(/^MODEL\s+REQUESTS\s+ERRORS\s+INTERRUPTED\s+ESTIMATED\s+INPUT/);
    expect(lines[2]).toMatch(/^─+/);
    expect(lines.at(-2)).toMatch(/^total\s+3\s+2\s+1\s+0\s+3600\s+102\s+15\s+3\s+0\.0123$/);
  });
});

describe('models', () => {
  const models = {
    region: 'us-east-1',
    source: 'live' as const,
    fetchedAt: '2026-05-12T00:00:00.000Z',
    models: [],
    aliases: [
      { alias: 'sonnet', bedrockId: 'us.anthropic.x', baseModelId: 'anthropic.x', via: 'catalogue' as const },
    ],
  };

  it('plain tables off a terminal, ink tables on one', async () => {
    const plain = stream(false);
    const io = { stdout: (text: string) => plain.out.write(text) };
    await printModels(models, {}, io, false, plain.out);
    expect(plain.text()).toContain('ALIAS   RESOLVES TO     VIA\nsonnet  us.anthropic.x  catalogue\n');
    expect(loadViews).not.toHaveBeenCalled();
    const tty = stream(true);
    await printModels(models, {}, { stdout: () => {} }, false, tty.out);
    expect(loadViews).toHaveBeenCalled();
    expect(uncoloured(tty.text())).toMatch(/ALIAS\s+RESOLVES TO\s+VIA\n─+/);
  });
});

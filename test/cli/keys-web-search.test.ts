/**
 * `abproxy keys create --web-search/--no-web-search/--web-search-daily` and `--concurrent-requests` as a
 * user runs it (solo store).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABPROXY } from '../helpers/process.ts';

function cli(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [ABPROXY, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: home, ABPROXY_HOME: home, LOG_LEVEL: 'error' },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
      },
    );
  });
}

describe('keys and web search', () => {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-keys-web-'));

  it('stores --no-web-search and --web-search-daily, shows them, and refuses a bad cap with exit 2', async () => {
    const off = await cli(['keys', 'create', '--name', 'no-web', '--no-web-search', '--json'], home);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toMatchObject({
      name: 'no-web',
      web_search: false,
      web_search_daily: null,
    });

    const capped = await cli(
      ['keys', 'create', '--name', 'capped', '--web-search-daily', '30', '--json'],
      home,
    );
    expect(capped.code).toBe(0);
    const key = JSON.parse(capped.stdout);
    expect(key).toMatchObject({ web_search: true, web_search_daily: 30 });

    const plain = await cli(['keys', 'create', '--name', 'plain', '--web-search', '--json'], home);
    expect(JSON.parse(plain.stdout)).toMatchObject({ web_search: true, web_search_daily: null });

    const shown = await cli(['keys', 'show', key.id], home);
    expect(shown.stdout).toMatch(/web search:\s+30 searches\/day/);
    const listed = JSON.parse((await cli(['keys', 'list', '--json'], home)).stdout) as Array<
      Record<string, unknown>
    >;
    expect(listed.map((k) => [k.name, k.web_search, k.web_search_daily])).toEqual([
      ['no-web', false, null],
      ['capped', true, 30],
      ['plain', true, null],
    ]);

    const bad = await cli(['keys', 'create', '--web-search-daily', 'lots'], home);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--web-search-daily: expected a positive integer/);
  });

  it('stores --concurrent-requests, shows it, and refuses a bad cap with exit 2', async () => {
    const made = await cli(
      ['keys', 'create', '--name', 'agents', '--concurrent-requests', '6', '--json'],
      home,
    );
    expect(made.code).toBe(0);
    const key = JSON.parse(made.stdout);
    expect(key).toMatchObject({ name: 'agents', concurrent_requests: 6 });
    expect((await cli(['keys', 'show', key.id], home)).stdout).toMatch(/concurrency:\s+6 requests at once/);
    const bad = await cli(['keys', 'create', '--concurrent-requests', '0'], home);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--concurrent-requests: expected a positive integer/);
  });
});

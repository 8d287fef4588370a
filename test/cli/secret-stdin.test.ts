/**
 * Secrets given as `-` come from standard input, never the command line (issue 11, item 13): what a
 * script does with `printf %s "$KEY" | abproxy keys import -`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, root, tempHome } from './cli-helpers.ts';

function cliWithStdin(args: string[], env: Record<string, string>, input: string) {
  const child = spawn(process.execPath, [join(root, 'bin/abproxy.js'), ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  child.stdin.end(input);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('secrets from standard input', () => {
  it('keys import -, keys create --key - and config set masterApiKey -', { timeout: 60_000 }, async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    const seed = `sk-${'s'.repeat(30)}`;
    const imported = await cliWithStdin(
      ['keys', 'import', '-', '--name', 'seed', '--json'],
      env,
      `${seed}\n`,
    );
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ key: seed, name: 'seed', prefix: seed.slice(0, 11) });

    const own = `abp_${'A1b2C3d4E5'.repeat(4)}xyz`;
    const created = await cliWithStdin(['keys', 'create', '--key', '-', '--json'], env, own);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).key).toBe(own);

    const empty = await cliWithStdin(['keys', 'import', '-'], env, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('standard input was empty');

    const master = 'master-from-stdin-0123456789';
    const set = await cliWithStdin(['config', 'set', 'masterApiKey', '-'], env, `${master}\n`);
    expect(set.code, set.stderr).toBe(0);
    const got = await cliWithStdin(['config', 'get', 'masterApiKey', '--show-secrets'], env, '');
    expect(got.stdout.trim()).toBe(master);
  });
});

/**
 * The single executable: built once with `npm run build:binary`'s script, copied out of the checkout
 * and run with a PATH that has no node, as on a machine that never saw this repository.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };

const root = join(import.meta.dirname, '../..');
let dir: string;
let binary: string;
const children: ChildProcess[] = [];

/** A PATH with nothing on it (this machine has a node in /usr/bin), no npm or AWS settings from here. */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: join(dir, 'empty-bin'), HOME: dir, ABPROXY_HOME: join(dir, 'home'), ...extra };
}

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'scripts/build-binary.ts')], { cwd: root, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'abproxy-binary-'));
  mkdirSync(join(dir, 'empty-bin'));
  binary = join(dir, 'abproxy');
  copyFileSync(join(root, 'dist/abproxy'), binary);
  chmodSync(binary, 0o755);
}, 180_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('single executable', () => {
  it('has no node on its PATH to lean on', () => {
    expect(() => execFileSync('/bin/sh', ['-c', 'command -v node'], { env: bareEnv() })).toThrow();
  });

  it('prints its version', () => {
    const out = execFileSync(binary, ['--version'], { env: bareEnv(), encoding: 'utf8' });
    expect(out.trim()).toBe(pkg.version);
  });

  it('serves: one line with the URL on stdout, /health answers, SIGTERM stops it with 0', async () => {
    const child = spawn(binary, ['serve', '--port', '0'], {
      env: bareEnv({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
    });
    const url = /^abproxy listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(firstLine)?.[1];
    expect(url, firstLine).toBeDefined();
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('stores keys in SQLite through the embedded better-sqlite3 addon', () => {
    const env = bareEnv({ ABPROXY_CACHE_DIR: join(dir, 'cache') });
    const secret = execFileSync(binary, ['keys', 'create', '--name', 'bin-test'], { env, encoding: 'utf8' });
    expect(secret).toMatch(/^abp_\w+/);
    const list = execFileSync(binary, ['keys', 'list', '--json'], { env, encoding: 'utf8' });
    expect(list).toContain('bin-test');
  });
});

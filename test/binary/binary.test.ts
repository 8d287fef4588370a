/**
 * The single executable: built once with `npm run build:binary`'s script, copied out of the checkout
 * and run with a PATH that has no node, as on a machine that never saw this repository.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../package.json' with { type: 'json' };
import { startEmulator } from '../emulator/server.ts';
import { emulatorAwsEnv, MASTER_KEY, postMessages } from '../helpers/gateway.ts';

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

  /** `abproxy serve` from the binary; resolves with its URL and its exit. */
  async function serve(env: NodeJS.ProcessEnv) {
    const child = spawn(binary, ['serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
    return { child, url: url!, exited };
  }

  it('serves: one line with the URL on stdout, /health answers, SIGTERM stops it with 0', async () => {
    const { child, url, exited } = await serve(
      bareEnv({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' }),
    );
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('reads a fetched HTML page with its embedded worker (web_fetch)', async () => {
    const page = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<html><head><title>Binary page</title></head><body><article><h1>Hello</h1><p>${'Read in a worker. '.repeat(20)}</p></article></body></html>`,
      );
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const emulator = await startEmulator({ port: 0 });
    try {
      const pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/page.html`;
      const { child, url, exited } = await serve(
        bareEnv({
          ...emulatorAwsEnv(emulator.url),
          MASTER_API_KEY: MASTER_KEY,
          ABPROXY_CACHE_DIR: join(dir, 'cache'),
          ABPROXY_WEB_FETCH_ALLOW_LOOPBACK_FOR_TESTS: 'true',
        }),
      );
      emulator.enqueue({ toolCalls: [{ name: 'web_fetch', input: { url: pageUrl } }] });
      emulator.enqueue({ text: 'read it' });
      const response = await postMessages(
        url,
        JSON.stringify({
          model: 'qwen.qwen3-coder-480b-a35b-v1:0',
          max_tokens: 100,
          messages: [{ role: 'user', content: `read the page ${pageUrl}` }],
          tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 1 }],
        }),
      );
      const message = (await response.json()) as { content: { type: string; content?: unknown }[] };
      expect(response.status, JSON.stringify(message)).toBe(200);
      const result = message.content.find((block) => block.type === 'web_fetch_tool_result');
      expect(result?.content).toMatchObject({
        type: 'web_fetch_result',
        content: {
          title: 'Binary page',
          source: { data: expect.stringMatching(/^## Hello\n\nRead in a worker\./) },
        },
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      page.close();
      await emulator.close();
    }
  });

  it('stores keys in SQLite through the embedded better-sqlite3 addon', () => {
    const env = bareEnv({ ABPROXY_CACHE_DIR: join(dir, 'cache') });
    const secret = execFileSync(binary, ['keys', 'create', '--name', 'bin-test'], { env, encoding: 'utf8' });
    expect(secret).toMatch(/^abp_\w+/);
    const list = execFileSync(binary, ['keys', 'list', '--json'], { env, encoding: 'utf8' });
    expect(list).toContain('bin-test');
  });
});

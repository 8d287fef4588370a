/**
 * Graceful drain of `abproxy serve` as a load balancer sees it: SIGTERM during 20 live streams. Every
 * stream ends normally, probes and new calls get 503 meanwhile, and the process exits 0. A second
 * signal ends the process at once. An uncaught error drains the same way and exits 1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readGatewayState } from '../../src/cli/gateway-state.ts';
import { hasTmux, Terminal } from '../e2e/tmux.ts';
import { startEmulator } from '../emulator/server.ts';
import {
  containerEnv,
  MASTER_KEY,
  ROOT,
  type ServeProcess,
  spawnServe,
  streamMessage,
} from './serve-process.ts';

const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const STREAMS = 20;
// 12 deltas of 4 characters, 150 ms apart: each stream lasts about 2 s.
const TEXT = 'drain-me-now'.repeat(4);
const SLOW = { text: TEXT, chunkSize: 4, chunkDelayMs: 150 };

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator?.close();
});
beforeEach(() => emulator.reset());
afterEach(() => {
  if (serve && serve.proc.exitCode === null) serve.proc.kill('SIGKILL');
  serve = undefined;
});

function startServe(extraEnv: Record<string, string> = {}) {
  serve = spawnServe(
    [join(ROOT, 'bin/abproxy.js'), 'serve', '--port', '0'],
    containerEnv(emulator.url, extraEnv),
  );
  return serve;
}

/** A bug stood in for by a preload: on SIGUSR2 it throws (or, FATAL_KIND=reject, rejects) outside any request. */
function fatalPreload(): string {
  const preload = join(mkdtempSync(join(tmpdir(), 'abproxy-fatal-')), 'fatal.mjs');
  writeFileSync(
    preload,
    `process.on('SIGUSR2', () => {
      const err = new Error('boom from the test preload');
      if (process.env.FATAL_KIND === 'reject') Promise.reject(err);
      else throw err;
    });\n`,
  );
  return preload;
}

/**
 * `/health` on a fresh connection (as a load balancer's probe), asked until it says draining (503) or
 * 20 times; the last answer.
 */
async function healthOnceDraining(base: string): Promise<Response> {
  let health = await fetch(`${base}/health`, { headers: { connection: 'close' } });
  for (let attempt = 1; attempt < 20 && health.status !== 503; attempt++) {
    await new Promise((r) => setTimeout(r, 25));
    health = await fetch(`${base}/health`, { headers: { connection: 'close' } });
  }
  return health;
}

/** Resolves once `count` streams have received their first event. */
function counter(count: number) {
  let seen = 0;
  let done!: () => void;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  return {
    all,
    tick: () => {
      seen++;
      if (seen === count) done();
    },
  };
}

/**
 * One scripted stream through `base`, once its first event has arrived; `stream` is the rest of it
 * (awaited by the test; a rejection before then is not reported as unhandled).
 */
async function streamUnderway(base: string, turn: Parameters<typeof emulator.enqueue>[0]) {
  emulator.enqueue(turn);
  const started = counter(1);
  const stream = streamMessage(base, MODEL, started.tick);
  stream.catch(() => {});
  await started.all;
  return { stream };
}

describe('serve drain', () => {
  it('finishes 20 live streams after SIGTERM, answers 503 meanwhile, and exits 0', async () => {
    const run = startServe();
    const base = await run.url;
    for (let i = 0; i < STREAMS; i++) emulator.enqueue(SLOW);

    const started = counter(STREAMS);
    const streams = Array.from({ length: STREAMS }, () => streamMessage(base, MODEL, started.tick));
    await started.all;
    const healthBefore = await fetch(`${base}/health`);
    expect(healthBefore.status).toBe(200);

    run.proc.kill('SIGTERM');
    // Probes and new calls arrive on fresh connections, as a load balancer's would.
    const health = await healthOnceDraining(base);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining' });
    expect(health.headers.get('connection')).toBe('close');

    const late = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': MASTER_KEY, connection: 'close' },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'late' }] }),
    });
    expect(late.status).toBe(503);
    expect(late.headers.get('x-should-retry')).toBe('true');
    expect(late.headers.get('request-id')).toMatch(/^req_/);
    expect(await late.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    expect(run.proc.exitCode).toBeNull();

    const results = await Promise.all(streams);
    for (const result of results) {
      expect(result.status).toBe(200);
      expect(result.events.at(-1)).toBe('message_stop');
      expect(result.text).toBe(TEXT);
    }
    expect(await run.exited).toBe(0);
    // The late call never reached Bedrock.
    expect(
      emulator.requests.filter((r) => r.operation === 'ConverseStream' || r.operation === 'Converse'),
    ).toHaveLength(STREAMS);
  });

  it('cuts streams still running at the drain timeout and still exits 0', async () => {
    const run = startServe({ ABPROXY_DRAIN_TIMEOUT_MS: '300' });
    const base = await run.url;
    const { stream } = await streamUnderway(base, { text: 'x'.repeat(400), chunkSize: 4, chunkDelayMs: 100 });
    const stopAt = Date.now();
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(3_000);
    const result = await stream.catch((err: unknown) => err);
    // The client sees a cut stream (an error or an unfinished event list), never message_stop.
    if (!(result instanceof Error))
      expect((result as { events: string[] }).events).not.toContain('message_stop');
  });

  it('drains after an uncaught exception or unhandled rejection, logs it, and exits 1', async () => {
    const preload = fatalPreload();
    for (const kind of ['throw', 'reject']) {
      emulator.reset();
      const run = startServe({ NODE_OPTIONS: `--import=${preload}`, FATAL_KIND: kind });
      const base = await run.url;
      const { stream } = await streamUnderway(base, SLOW);
      run.proc.kill('SIGUSR2');
      const health = await healthOnceDraining(base);
      expect(health.status).toBe(503);
      // The stream in flight still ends normally.
      const result = await stream;
      expect(result.events.at(-1)).toBe('message_stop');
      expect(result.text).toBe(TEXT);
      expect(await run.exited).toBe(1);
      const { stderr } = run.output();
      expect(stderr).toMatch(/uncaught error: draining in-flight requests/);
      expect(stderr).toMatch(/boom from the test preload/);
      expect(stderr).toMatch(/stopped after an uncaught error/);
    }
  });

  it('an uncaught error during a SIGTERM drain is logged and the exit code says so', async () => {
    const run = startServe({ NODE_OPTIONS: `--import=${fatalPreload()}` });
    const base = await run.url;
    const { stream } = await streamUnderway(base, SLOW);
    run.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    run.proc.kill('SIGUSR2');
    const result = await stream;
    expect(result.events.at(-1)).toBe('message_stop');
    expect(await run.exited).toBe(1);
    expect(run.output().stderr).toMatch(/boom from the test preload/);
  });

  it('exits at once with a non-zero code on a second signal', async () => {
    const run = startServe();
    const base = await run.url;
    const { stream } = await streamUnderway(base, { text: 'y'.repeat(400), chunkSize: 4, chunkDelayMs: 100 });
    run.proc.kill('SIGTERM');
    // Still draining: the stream would take 10 s and the drain timeout is the default.
    await new Promise((r) => setTimeout(r, 200));
    expect(run.proc.exitCode).toBeNull();
    const secondAt = Date.now();
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(1);
    expect(Date.now() - secondAt).toBeLessThan(2_000);
    expect(run.output().stderr).toMatch(/SIGTERM during the drain/);
    await stream.catch((err: unknown) => err);
  });
});

describe('SIGHUP', () => {
  it('without a terminal (nohup abproxy serve &) is ignored: streams and serving go on', async () => {
    // Node resets the "ignore" nohup sets: SIGHUP at logout ended the gateway on the spot.
    const run = startServe({ LOG_LEVEL: 'info' });
    const base = await run.url;
    const { stream } = await streamUnderway(base, SLOW);
    run.proc.kill('SIGHUP');
    run.proc.kill('SIGHUP');
    const result = await stream;
    expect(result.events.at(-1)).toBe('message_stop');
    expect(result.text).toBe(TEXT);
    expect(run.proc.exitCode).toBeNull();
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(run.output().stderr.match(/SIGHUP ignored/g)).toHaveLength(1);
    run.proc.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  describe.skipIf(!hasTmux())('on a terminal', () => {
    let terminal: Terminal | undefined;
    afterEach(() => terminal?.kill());

    it('the terminal closing drains: the stream in flight finishes, then the gateway exits', async () => {
      const env = containerEnv(emulator.url);
      const home = env.ABPROXY_HOME!;
      const vars = Object.entries(env)
        .map(([name, value]) => `${name}='${value}'`)
        .join(' ');
      terminal = new Terminal();
      terminal.start(
        `env ${vars} ${process.execPath} ${join(ROOT, 'bin/abproxy.js')} serve --port 0 --plain`,
      );
      await terminal.waitFor('abproxy listening on');
      const state = readGatewayState(home);
      if (!state) throw new Error('no gateway.json');
      const { stream } = await streamUnderway(state.url, SLOW);
      terminal.kill(); // SIGHUP to the pane's processes, as closing the window does
      terminal = undefined;
      const result = await stream;
      expect(result.events.at(-1)).toBe('message_stop');
      expect(result.text).toBe(TEXT);
      // Gone once the drain is over, taking its state file with it.
      for (let i = 0; i < 50 && readGatewayState(home); i++) await new Promise((r) => setTimeout(r, 100));
      expect(readGatewayState(home)).toBeUndefined();
      const alive = () => {
        try {
          // A zombie (exited, not yet reaped by whoever inherited it) has ended too.
          return !/^State:\s+Z/m.test(readFileSync(`/proc/${state.pid}/status`, 'utf8'));
        } catch {
          return false;
        }
      };
      for (let i = 0; i < 50 && alive(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(alive()).toBe(false);
    });
  });
});

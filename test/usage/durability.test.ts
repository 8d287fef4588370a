/**
 * kill -9 under load loses no usage record: every model call the Bedrock emulator received has a
 * record once the gateway is restarted on the same home (its spool is adopted and drained), and
 * `abproxy usage --json` totals match what the emulator served.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startEmulator } from '../emulator/server.ts';
import { emulatorAwsEnv } from '../helpers/gateway.ts';
import { modelCalls, runCli, startServe } from './processes.ts';

type Emulator = Awaited<ReturnType<typeof startEmulator>>;
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator?.close();
});

it('a gateway killed with SIGKILL mid-load has a usage record for every request Bedrock served', async () => {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-kill-'));
  const env = {
    ABPROXY_HOME: home,
    MASTER_API_KEY: 'kill-test-master',
    ...emulatorAwsEnv(emulator.url),
    ABPROXY_USAGE_DRAIN_MS: '200',
  };
  const first = await startServe(env);
  const client = new Anthropic({ baseURL: first.url, apiKey: 'kill-test-master', maxRetries: 0 });
  // Slow streams keep requests in flight at the moment of the kill.
  emulator.enqueue(
    ...Array.from({ length: 300 }, () => ({
      model: 'claude-sonnet-4-5',
      text: 'slow '.repeat(40),
      chunkSize: 10,
      chunkDelayMs: 20,
    })),
  );
  let stop = false;
  const worker = async (stream: boolean) => {
    while (!stop) {
      try {
        if (stream) {
          await client.messages
            .stream({
              model: 'claude-sonnet-4-5',
              max_tokens: 200,
              messages: [{ role: 'user', content: 'go' }],
            })
            .finalMessage();
        } else {
          await client.messages.create({
            model: 'claude-haiku-4-5',
            max_tokens: 50,
            messages: [{ role: 'user', content: 'quick' }],
          });
        }
      } catch {
        return; // the gateway is gone
      }
    }
  };
  const workers = [true, true, true, true, false, false, false, false].map(worker);
  // Kill once real load has passed through (slower machines take longer to get there).
  for (let i = 0; i < 100 && modelCalls(emulator.requests).length < 30; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Kill while a stream is being answered, so some requests are cut mid-stream.
  const midStream = () =>
    emulator.requests.some(
      (r) => r.operation === 'InvokeModelWithResponseStream' && r.status === 200 && !r.finished,
    );
  for (let i = 0; i < 100 && !midStream(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
  first.proc.kill('SIGKILL');
  await first.exited;
  stop = true;
  await Promise.all(workers);
  const served = modelCalls(emulator.requests).length;
  expect(served).toBeGreaterThan(20);
  // The emulator notices the dead gateway's sockets a moment later.
  for (let i = 0; i < 40 && !emulator.requests.some((r) => r.aborted); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(emulator.requests.some((r) => r.aborted)).toBe(true); // some were cut mid-stream

  const second = await startServe(env);
  let report:
    | {
        total: { requests: number; interrupted: number; output_tokens: number };
        groups: Array<{ group: string }>;
      }
    | undefined;
  for (let i = 0; i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const out = await runCli(['usage', '--json', '--since', '1h', '--by', 'model'], env);
    expect(out.code, out.stderr).toBe(0);
    report = JSON.parse(out.stdout);
    if (report!.total.requests >= served) break;
  }
  second.proc.kill('SIGTERM');
  await second.exited;
  // Every call Bedrock served has a record. A request the kill cut between its spooled start and the
  // call leaving the socket is also recorded (status 0, "interrupted"): only those may be extra.
  const { requests, interrupted } = report!.total;
  expect(requests).toBeGreaterThanOrEqual(served);
  expect(requests - interrupted).toBeLessThanOrEqual(served);
  expect(interrupted).toBeGreaterThan(0);
  expect(report!.total.output_tokens).toBeGreaterThan(0);
  expect(report!.groups.map((g) => g.group).sort()).toEqual(['claude-haiku-4-5', 'claude-sonnet-4-5']);
  // After the graceful stop the spool is empty: everything reached the store.
  const after = await runCli(['usage', '--json', '--since', '1h'], env);
  expect(JSON.parse(after.stdout).total.requests).toBe(requests);
}, 60_000);

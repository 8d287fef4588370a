/**
 * `npm run bench` (after bench/run.ts): the cost of auth + limits + usage recording. Two gateways on
 * one Bedrock emulator, in the same run:
 * - OFF: master key only, no per-key limits, ABPROXY_USAGE=false;
 * - ON: a stored key with requests/tokens-per-minute and budget limits (set high enough never to
 *   refuse), usage records spooled and drained into the solo SQLite store.
 * Figures: non-stream latency p50/p99 and requests/s at concurrency 32, with error counts.
 * Prints a table and writes bench/results/limits.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { gatewayEnv, root, startEmulator, startProcess, stopAll } from './lib.ts';

const quick = process.argv.includes('--quick');
const LATENCY_N = quick ? 300 : 1500;
const THROUGHPUT_MS = quick ? 1500 : 4000;
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const BODY = JSON.stringify({
  model: MODEL,
  max_tokens: 256,
  messages: [{ role: 'user', content: 'Say hello in five words.' }],
});
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function caller(url: string, key: string) {
  const dispatcher = new Agent({ connections: 256 });
  return async () => {
    const res = await request(`${url}/v1/messages`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: BODY,
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  };
}

async function measure(call: () => Promise<void>) {
  for (let i = 0; i < 100; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_N; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  let done = 0;
  let errors = 0;
  const until = performance.now() + THROUGHPUT_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < until) {
        try {
          await call();
          done++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const rps = done / ((performance.now() - started) / 1000);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99), rps, errors };
}

async function main() {
  const emulatorUrl = await startEmulator();
  const offEnv = gatewayEnv(emulatorUrl, mkdtempSync(join(tmpdir(), 'abproxy-bench-off-')), {
    ABPROXY_USAGE: 'false',
  });
  const onEnv = gatewayEnv(emulatorUrl, mkdtempSync(join(tmpdir(), 'abproxy-bench-on-')));
  const created = spawnSync(
    process.execPath,
    [
      'bin/abproxy.js',
      'keys',
      'create',
      '--name',
      'bench',
      '--rate-limit',
      '1000000',
      '--tokens-per-minute',
      '1000000000',
      '--budget-usd',
      '1000000',
      '--json',
    ],
    { cwd: root, env: onEnv, encoding: 'utf8' },
  );
  if (created.status !== 0) throw new Error(`keys create failed: ${created.stderr}`);
  const key = (JSON.parse(created.stdout) as { key: string }).key;
  const off = (await startProcess(['bin/abproxy.js', 'serve', '--port', '0'], offEnv, /(http:\/\/\S+)/))
    .match[1]!;
  const on = (await startProcess(['bin/abproxy.js', 'serve', '--port', '0'], onEnv, /(http:\/\/\S+)/))
    .match[1]!;

  const rows = {
    'auth+limits+usage OFF (master key)': await measure(caller(off, 'bench-master-key')),
    'auth+limits+usage ON (stored key)': await measure(caller(on, key)),
  };
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  console.log('\nlimits bench: non-stream latency (ms) and requests/s at concurrency 32');
  console.log(
    `${'configuration'.padEnd(38)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'req/s'.padStart(9)} errors`,
  );
  for (const [name, r] of Object.entries(rows)) {
    console.log(`${name.padEnd(38)}${fmt(r.p50)}${fmt(r.p99)}${r.rps.toFixed(0).padStart(9)} ${r.errors}`);
  }
  const out = join(root, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'limits.json'), `${JSON.stringify({ quick, rows }, null, 2)}\n`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
  });

/**
 * Paired A/B of the gateway's CPU per request at c=128 (non-stream, or `--stream`): two gateways on one
 * emulator, each a checkout's bin/abproxy.js with its own environment and Node flags, measured in
 * alternating windows; the figure is the median over rounds of each round's B ÷ A. Pairing cancels most
 * of a shared machine's drift, which moves single windows by ±20% (this is how the feature costs in the
 * issue 13 notes were measured: `--b-env '{"ABPROXY_USAGE":"false"}'` prices usage recording).
 *   node bench/ab.ts [--a bin/abproxy.js] [--b bin/abproxy.js] [--a-env JSON] [--b-env JSON]
 *                    [--a-flags "…"] [--b-flags "…"] [--rounds 10] [--window 3000] [--stream]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import {
  BENCH_MASTER_KEY,
  gatewayEnv,
  load,
  median,
  root,
  startEmulator,
  startProcess,
  stopAll,
} from './lib.ts';

const { values: opts } = parseArgs({
  options: {
    a: { type: 'string', default: 'bin/abproxy.js' },
    b: { type: 'string', default: 'bin/abproxy.js' },
    'a-env': { type: 'string', default: '{}' },
    'b-env': { type: 'string', default: '{}' },
    'a-flags': { type: 'string', default: '' },
    'b-flags': { type: 'string', default: '' },
    rounds: { type: 'string', default: '10' },
    window: { type: 'string', default: '3000' },
    stream: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const WINDOW = Number(opts.window);
const CONCURRENCY = 128;

async function main() {
  const emulatorUrl = await startEmulator();
  const gateway = async (bin: string, env: string, flags: string) => {
    const started = await startProcess(
      [...flags.split(' ').filter(Boolean), resolve(root, bin), 'serve', '--port', '0', '--plain'],
      gatewayEnv(emulatorUrl, mkdtempSync(join(tmpdir(), 'abproxy-ab-')), JSON.parse(env)),
      /(http:\/\/\S+)/,
    );
    return { pid: started.pid, url: started.match[1]! };
  };
  const a = await gateway(opts.a, opts['a-env'], opts['a-flags']);
  const b = await gateway(opts.b, opts['b-env'], opts['b-flags']);
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 2 * CONCURRENCY });
  const body = JSON.stringify({
    model: 'qwen.qwen3-coder-480b-a35b-v1:0',
    max_tokens: 256,
    stream: opts.stream,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });
  const headers = {
    'content-type': 'application/json',
    'x-api-key': BENCH_MASTER_KEY,
    'anthropic-version': '2023-06-01',
  };
  const caller = (url: string) => async () => {
    const res = await request(`${url}/v1/messages`, { method: 'POST', dispatcher: agent, headers, body });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  };
  const window = (target: { pid: number; url: string }, ms: number) =>
    load(target.pid, CONCURRENCY, ms, caller(target.url));
  // Warm both (JIT, pools, caches) before anything counts.
  await window(a, 5_000);
  await window(b, 5_000);
  const cpuA: number[] = [];
  const cpuB: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating which goes first, so neither always follows the other's garbage.
    const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
    const x = await window(first, WINDOW);
    const y = await window(second, WINDOW);
    const [wa, wb] = round % 2 === 0 ? [x, y] : [y, x];
    if (wa.errors + wb.errors > 0)
      throw new Error(`errors in round ${round + 1}: A ${wa.errors}, B ${wb.errors}`);
    cpuA.push(wa.cpuPerRequest);
    cpuB.push(wb.cpuPerRequest);
    ratios.push(wb.cpuPerRequest / wa.cpuPerRequest);
  }
  const list = (xs: number[], digits: number) => xs.map((x) => x.toFixed(digits)).join(' ');
  console.log(`A CPU/request (µs), median ${median(cpuA).toFixed(0)}: ${list(cpuA, 0)}`);
  console.log(`B CPU/request (µs), median ${median(cpuB).toFixed(0)}: ${list(cpuB, 0)}`);
  console.log(`B ÷ A per round, median ${median(ratios).toFixed(3)}: ${list(ratios, 2)}`);
  await agent.close();
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(stopAll);

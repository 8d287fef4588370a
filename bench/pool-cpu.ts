/**
 * The pool row of `npm run bench`: CPU per request (non-stream Converse, the same model and body) of a
 * gateway whose calls go through a pool of three upstreams (ABPROXY_UPSTREAMS, all on the same emulator)
 * against a single-upstream gateway (≤ 1.05×).
 *
 * Measured so that a shared, noisy 2-core machine cancels out: two FRESH gateways started the same way
 * (same binary, flags and environment but for the upstream list), warmed with the same traffic (flat out,
 * c=`concurrency` each, which also tells the rate the machine sustains now), then driven AT THE SAME TIME
 * at the same PACED rate (70% of that, at most `concurrency` in flight each) for several short windows,
 * the two sides' order alternating. Paced rather than flat out: a closed loop lets the slightly cheaper
 * side complete more requests, batch more per event-loop turn and so look cheaper still; at one rate
 * both work alike. Each side's CPU time (every thread's /proc/<pid>/task/<tid>/schedstat) over all the
 * windows is divided by the requests it completed; the figure is pool ÷ single. A window in which a side
 * could not keep the rate is done again at a lower one. Whatever else runs on the machine during a
 * window hits both gateways alike. Also printed: the per-window ratios' spread, and p50 latency at c=1
 * (the sides interleaved call by call).
 *
 * Standalone (starts its own emulator), for A/B runs and for checking the measurement itself:
 *   node bench/pool-cpu.ts [--quick] [--runs N] [--windows N] [--window-ms MS] [--concurrency C]
 *     [--rate R] [--warmup-ms MS] [--pool-size N] [--both-pool] [--gateway-bin PATH] [--pool-bin PATH] [--single-bin PATH] [--gateway-flags "…"] [--same]
 * `--same` starts two single-upstream gateways (an A/A run: the ratio should read 1.00 ± the noise);
 * `--pool-bin`/`--single-bin` put another checkout's bin/abproxy.js on one side; with `--both-pool`
 * both sides have the pool (before/after of the pool's own code).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import {
  BENCH_MASTER_KEY,
  cpuMicros,
  EMULATOR_CREDENTIALS,
  gatewayEnv,
  median,
  spread,
  startEmulator,
  startProcess,
} from './lib.ts';

const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const BODY = JSON.stringify({
  model: MODEL,
  max_tokens: 256,
  stream: false,
  system: 'You are a terse assistant.',
  messages: [{ role: 'user', content: 'Say hello in five words.' }],
});

export interface PoolCpuOptions {
  emulatorUrl: string;
  /** bin/abproxy.js of the single-upstream side and of the pool side (default: this checkout's). */
  singleBin?: string;
  poolBin?: string;
  /** Node/V8 flags for both gateways. */
  gatewayFlags?: string[];
  /** Measured windows, each this long, and in-flight requests per gateway. */
  windows?: number;
  windowMs?: number;
  /** Flat out (or at `rate`) before the windows: JIT tiers, connections, catalogues. */
  warmupMs?: number;
  concurrency?: number;
  /** Requests/s sent to each side; default 60% of what both sustain flat out in the warm-up; 0: flat out. */
  rate?: number;
  /** Both sides single-upstream (A/A): checks the measurement. */
  same?: boolean;
  /** Calls per side for the c=1 latency (information). */
  latencyCalls?: number;
  /** Upstreams in the pool (3; fewer to see what one more costs). */
  poolSize?: number;
  /** Both sides with the pool (two checkouts' pools side by side, with `singleBin`/`poolBin`). */
  bothPool?: boolean;
  /** Told the two gateways' pids once both are up (for profiling, strace, /proc). */
  onStarted?: (pids: { single: number; pool: number }) => void;
}

export interface PoolCpuResult {
  /** CPU per request of each side over all the windows, µs. */
  single: number;
  pool: number;
  /** Pool ÷ single over all the windows together. */
  ratio: number;
  /** Median of the per-window ratios (information: it is noisier, see `spread`). */
  windowMedian: number;
  /** (max − min) / median of the per-window ratios, %. */
  spread: number;
  ratios: number[];
  /** Requests completed per window, each side (medians). */
  requests: { single: number; pool: number };
  /** Median latency at c=1, the sides interleaved call by call (information). */
  p50Ms: { single: number; pool: number };
  errors: number;
  concurrency: number;
  /** Requests/s each side was sent in the last window (0: flat out at `concurrency`). */
  rate: number;
  /**
   * Requests not sent because `concurrency` were still in flight (a side could not keep the rate; such
   * windows are done again at a lower rate).
   */
  lagged: number;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function measurePoolCpu(options: PoolCpuOptions): Promise<PoolCpuResult> {
  const {
    emulatorUrl,
    singleBin = 'bin/abproxy.js',
    poolBin = singleBin,
    gatewayFlags = [],
    windows = 6,
    windowMs = 1500,
    warmupMs = 3000,
    concurrency = 64,
    rate,
    same = false,
    bothPool = false,
    latencyCalls = 300,
  } = options;
  const children: ChildProcess[] = [];
  const homes: string[] = [];
  const upstreams = ['first', 'second', 'third'].slice(0, options.poolSize ?? 3).map((name) => ({
    name,
    region: 'us-east-1',
    endpoint: emulatorUrl,
    controlEndpoint: emulatorUrl,
    credentials: EMULATOR_CREDENTIALS,
  }));
  // The same environment on both sides; only the pool side has the upstream list (which replaces the
  // single region's endpoints and credentials).
  const start = (bin: string, pooled: boolean) => {
    const home = mkdtempSync(join(tmpdir(), 'abproxy-bench-pool-'));
    homes.push(home);
    return startProcess(
      [...gatewayFlags, bin, 'serve', '--port', '0', '--plain'],
      gatewayEnv(emulatorUrl, home, pooled ? { ABPROXY_UPSTREAMS: JSON.stringify(upstreams) } : {}),
      /(http:\/\/\S+)/,
      children,
    );
  };
  const agents = [0, 1].map(() => new Agent({ keepAliveTimeout: 30_000, connections: concurrency + 8 }));
  try {
    const [single, pool] = await Promise.all([start(singleBin, bothPool), start(poolBin, !same)]);
    options.onStarted?.({ single: single.pid, pool: pool.pid });
    let errors = 0;
    // One connection pool per side, so neither queues behind the other's connections.
    const call = (url: string, agent: Agent) => async () => {
      const res = await request(`${url}/v1/messages`, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'x-api-key': BENCH_MASTER_KEY,
          'anthropic-version': '2023-06-01',
        },
        body: BODY,
      });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`);
    };
    const sides = [
      { pid: single.pid, call: call(single.match[1]!, agents[0]!) },
      { pid: pool.pid, call: call(pool.match[1]!, agents[1]!) },
    ];
    const one = async (i: number, done: number[]) => {
      try {
        await sides[i]!.call();
        done[i]!++;
      } catch (err) {
        if (errors++ === 0) console.error('pool-cpu: first error:', err);
      }
    };
    /**
     * Both sides under the same load for `ms`: `rate` requests/s each (at most `concurrency` in flight),
     * or, without a rate, `concurrency` callers each as fast as they answer. CPU per completed request.
     */
    const window = async (ms: number, rate?: number, flip = false) => {
      const done = [0, 0];
      const order = flip ? [1, 0] : [0, 1];
      const before = sides.map((s) => cpuMicros(s.pid));
      const started = performance.now();
      const until = started + ms;
      let lagged = 0;
      if (rate === undefined) {
        await Promise.all(
          order.flatMap((i) =>
            Array.from({ length: concurrency }, async () => {
              while (performance.now() < until) await one(i, done);
            }),
          ),
        );
      } else {
        // Paced: the same arrivals on both sides whatever their latency, so both work at the same rate.
        const issued = [0, 0];
        const inFlight = [0, 0];
        const pending = new Set<Promise<void>>();
        await new Promise<void>((resolve) => {
          const tick = () => {
            const now = performance.now();
            const due = Math.floor(((Math.min(now, until) - started) / 1000) * rate);
            for (const i of order) {
              while (issued[i]! < due) {
                issued[i]!++;
                if (inFlight[i]! >= concurrency) {
                  lagged++;
                  continue;
                }
                inFlight[i]!++;
                const p = one(i, done).finally(() => {
                  inFlight[i]!--;
                  pending.delete(p);
                });
                pending.add(p);
              }
            }
            if (now >= until) {
              clearInterval(timer);
              resolve();
            }
          };
          const timer = setInterval(tick, 5);
        });
        await Promise.all(pending);
      }
      const after = sides.map((s) => cpuMicros(s.pid));
      return {
        sides: sides.map((_, i) => ({ cpu: (after[i]! - before[i]!) / done[i]!, done: done[i]! })),
        rps: Math.min(...done) / ((performance.now() - started) / 1000),
        lagged,
      };
    };
    // Warm-up, the same for both (JIT, connections, catalogues), flat out: it also tells what rate the
    // machine sustains now; the measured windows run both at a share of that.
    // (With a rate given, the warm-up is paced too: both sides then serve exactly as many requests, and
    // their CPU profiles compare function by function.)
    const warm = await window(warmupMs, rate || undefined);
    let paced = rate ?? Math.max(50, Math.round(warm.rps * 0.7));
    const per: { single: number; pool: number; singleDone: number; poolDone: number }[] = [];
    let lagged = 0;
    let lastLagging: (typeof per)[number] | undefined;
    // A window in which a side could not keep the rate (the machine got busier) is not counted: that
    // side was then running flat out, which changes its CPU per request. The rate is lowered instead,
    // and the window done again (at most `windows` more times).
    for (let w = 0; per.length < windows && w < windows * 2; w++) {
      const result = await window(windowMs, paced === 0 ? undefined : paced, w % 2 === 1);
      const [s, p] = result.sides;
      lagged += result.lagged;
      const window_ = { single: s!.cpu, pool: p!.cpu, singleDone: s!.done, poolDone: p!.done };
      if (paced > 0 && rate === undefined && result.lagged > (paced * windowMs) / 1000 / 100) {
        paced = Math.max(20, Math.round(paced * 0.7));
        lastLagging = window_;
        continue;
      }
      per.push(window_);
    }
    if (per.length === 0 && lastLagging) per.push(lastLagging);
    // Information: latency one call at a time, the two sides interleaved call by call.
    const latency: number[][] = [[], []];
    for (let n = 0; n < latencyCalls; n++) {
      for (const i of [0, 1]) {
        const started = performance.now();
        await one(i, [0, 0]);
        latency[i]!.push(performance.now() - started);
      }
    }
    const ratios = per.map((w) => w.pool / w.single);
    // Over every window: a major GC (tens of ms) in one window is a large part of that window's CPU,
    // a small one of the whole.
    const total = (side: 'single' | 'pool') => {
      const done = per.reduce((a, w) => a + w[`${side}Done`], 0);
      return per.reduce((a, w) => a + w[side] * w[`${side}Done`], 0) / done;
    };
    return {
      single: total('single'),
      pool: total('pool'),
      ratio: total('pool') / total('single'),
      windowMedian: median(ratios),
      spread: spread(ratios),
      ratios,
      requests: { single: median(per.map((w) => w.singleDone)), pool: median(per.map((w) => w.poolDone)) },
      p50Ms: { single: median(latency[0]!), pool: median(latency[1]!) },
      errors,
      concurrency,
      rate: paced,
      lagged,
    };
  } finally {
    await Promise.all(agents.map((a) => a.close()));
    await Promise.all(children.map(stop));
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  }
}

export const POOL_CPU_LIMIT = 1.05;

/** The row as `npm run bench` prints it. */
export function poolCpuTableRow(r: PoolCpuResult, label = 'single upstream'): string {
  return (
    `| CPU per request with a 3-upstream pool, both driven at once, ${r.rate ? `${r.rate} req/s` : `c=${r.concurrency}`} each (≤ ${POOL_CPU_LIMIT}× ${label}) ` +
    `| single ${r.single.toFixed(0)} µs | pool ${r.pool.toFixed(0)} µs | ${r.ratio.toFixed(3)} | ${POOL_CPU_LIMIT} ` +
    `| ${r.ratio <= POOL_CPU_LIMIT && r.errors === 0 ? 'PASS' : 'FAIL'} | ratio spread ${r.spread.toFixed(0)}% over ${r.ratios.length} windows |`
  );
}

async function standalone() {
  const { values: opts } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string', default: '1' },
      windows: { type: 'string' },
      'window-ms': { type: 'string' },
      'warmup-ms': { type: 'string' },
      concurrency: { type: 'string', default: '64' },
      rate: { type: 'string' },
      'gateway-bin': { type: 'string', default: 'bin/abproxy.js' },
      'single-bin': { type: 'string' },
      'pool-bin': { type: 'string' },
      'gateway-flags': { type: 'string', default: '' },
      same: { type: 'boolean', default: false },
      'both-pool': { type: 'boolean', default: false },
      'pool-size': { type: 'string', default: '3' },
      'latency-calls': { type: 'string', default: '300' },
    },
  });
  const children: ChildProcess[] = [];
  const emulatorUrl = await startEmulator(children);
  try {
    const results: PoolCpuResult[] = [];
    for (let run = 0; run < Number(opts.runs); run++) {
      const r = await measurePoolCpu({
        emulatorUrl,
        singleBin: opts['single-bin'] ?? opts['gateway-bin'],
        poolBin: opts['pool-bin'] ?? opts['gateway-bin'],
        gatewayFlags: opts['gateway-flags'].split(' ').filter(Boolean),
        windows: Number(opts.windows ?? (opts.quick ? 6 : 10)),
        windowMs: Number(opts['window-ms'] ?? (opts.quick ? 1500 : 2000)),
        concurrency: Number(opts.concurrency),
        ...(opts['warmup-ms'] === undefined ? {} : { warmupMs: Number(opts['warmup-ms']) }),
        ...(opts.rate === undefined ? {} : { rate: Number(opts.rate) }),
        same: opts.same,
        bothPool: opts['both-pool'],
        poolSize: Number(opts['pool-size']),
        latencyCalls: Number(opts['latency-calls']),
        onStarted: (pids) => console.log(`gateways: single pid ${pids.single}, pool pid ${pids.pool}`),
      });
      results.push(r);
      console.log(
        `run ${run + 1}: ratio ${r.ratio.toFixed(3)}, window median ${r.windowMedian.toFixed(3)} (windows ${r.ratios.map((x) => x.toFixed(3)).join(' ')}), ` +
          `single ${r.single.toFixed(0)} µs, pool ${r.pool.toFixed(0)} µs, ${r.requests.single}/${r.requests.pool} req per window at ${r.rate || 'max'} req/s, ${r.lagged} lagged, ${r.errors} errors; c=1: p50 ${r.p50Ms.single.toFixed(3)} / ${r.p50Ms.pool.toFixed(3)} ms`,
      );
    }
    const last = results.at(-1)!;
    console.log(poolCpuTableRow(last, opts.same ? 'single upstream, A/A' : 'single upstream'));
    if (results.length > 1) {
      const ratios = results.map((r) => r.ratio);
      console.log(
        `runs: ratios ${ratios.map((x) => x.toFixed(3)).join(' ')}; median ${median(ratios).toFixed(3)}, spread ${spread(ratios).toFixed(1)}%`,
      );
    }
  } finally {
    await Promise.all(children.map(stop));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  standalone().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

/**
 * What the bench scripts share: child processes started and stopped together, a process's CPU time,
 * load from N workers, and robust summaries (median, spread) for a shared, noisy machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every child started by startProcess (stopAll() ends them). */
export const children: ChildProcess[] = [];

/**
 * Starts a child process and resolves with the first stdout line matching `pattern`. It joins
 * `children` (stopAll), or the caller's own list.
 */
export function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
  into: ChildProcess[] = children,
) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  into.push(child);
  const lines = createInterface({ input: child.stdout! });
  return new Promise<{ pid: number; match: RegExpMatchArray }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out starting ${args.join(' ')}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ pid: child.pid!, match });
      }
    });
  });
}

/** CPU time of every thread of a process, in µs (schedstat's first field is ns on the CPU). */
export function cpuMicros(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return ns / 1000;
}

export const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
export const percentile = (xs: number[], p: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
export const median = (xs: number[]) => percentile(xs, 50);
/** Spread of repeated figures: (max − min) / median, in %. */
export const spread = (xs: number[]) => ((Math.max(...xs) - Math.min(...xs)) / median(xs)) * 100;

/** Runs `call` from `concurrency` workers for `ms`; completed calls/s, errors and `pid`'s CPU per call. */
export async function load(pid: number, concurrency: number, ms: number, call: () => Promise<unknown>) {
  let done = 0;
  let errors = 0;
  let firstError: unknown;
  const cpuBefore = cpuMicros(pid);
  const started = performance.now();
  const until = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        try {
          await call();
          done++;
        } catch (err) {
          errors++;
          firstError ??= err;
        }
      }
    }),
  );
  const cpu = cpuMicros(pid) - cpuBefore;
  if (firstError) console.error('first error:', firstError);
  return { rps: done / ((performance.now() - started) / 1000), cpuPerRequest: cpu / done, errors };
}

/** The Bedrock emulator on a free port; resolves with its URL. */
export async function startEmulator(into: ChildProcess[] = children): Promise<string> {
  const emulator = await startProcess(
    ['test/emulator/main.ts', '--port', '0'],
    process.env,
    /"url":"([^"]+)"/,
    into,
  );
  return emulator.match[1]!;
}

/**
 * The bare hop (bench/forwarder.ts) in front of `upstreamUrl`, with the runtime tuning bin/abproxy.js
 * gives `serve` (V8 heap flags, malloc settings): the ratios compare the code, not V8's defaults (with which
 * a do-nothing hop's young generation alone grows to 128 MB).
 */
export function startHop(
  upstreamUrl: string,
  mode: 'lean' | 'piped' = 'lean',
): Promise<{ pid: number; url: string }> {
  return startTuned(['bench/forwarder.ts', '--upstream', upstreamUrl, '--mode', mode]);
}

/** The minimal gateway (bench/minimal-gateway.ts) in front of `upstreamUrl`, tuned as the hop is. */
export function startMinimalGateway(upstreamUrl: string): Promise<{ pid: number; url: string }> {
  return startTuned(['bench/minimal-gateway.ts', '--upstream', upstreamUrl]);
}

async function startTuned(args: string[]): Promise<{ pid: number; url: string }> {
  const server = await startProcess(
    ['--max-semi-space-size=8', '--heap-growing-percent=50', ...args],
    { ...process.env, MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '32768' },
    /"url":"([^"]+)"/,
  );
  return { pid: server.pid, url: server.match[1]! };
}

/** A process's memory from /proc, in MB: resident (anonymous + file-backed) and its peak. */
export function memoryOf(pid: number): { rss: number; anon: number; file: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (name: string) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))?.[1] ?? 0) / 1024;
  return { rss: mb('VmRSS'), anon: mb('RssAnon'), file: mb('RssFile'), peak: mb('VmHWM') };
}

/** The emulator's test credentials (test/emulator/sigv4.ts). */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
export const BENCH_MASTER_KEY = 'bench-master-key';

/** The environment of a gateway (`abproxy serve`) on the emulator at `emulatorUrl`, with its own home. */
export function gatewayEnv(
  emulatorUrl: string,
  home: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ABPROXY_HOME: home,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
    AWS_ENDPOINT_URL_BEDROCK: emulatorUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    MASTER_API_KEY: BENCH_MASTER_KEY,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** SIGTERM to every child started here. */
export function stopAll(): void {
  for (const child of children) child.kill('SIGTERM');
}

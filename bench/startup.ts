/**
 * Start-up time of the CLI (part of `npm run bench`, after run.ts): wall time of `abproxy --version`,
 * `abproxy --help`, and `abproxy serve --port 0` until its "listening" line (then SIGTERM). Each is run
 * N times as a fresh process, as a user runs it; the median and p90 are printed against the targets
 * (--version < 100 ms, serve ready < 300 ms) and written to bench/results/startup.json.
 * `--quick` runs fewer rounds. Also lists the heavy packages `--version` loaded, which should be none.
 * `--gateway-bin PATH` (another checkout's bin/abproxy.js) also times that one's `serve` in the same
 * rounds, each round's two starts back to back in alternating order: an A/B on a shared machine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin/abproxy.js');
const quick = process.argv.includes('--quick');
const otherAt = process.argv.indexOf('--gateway-bin');
const otherBin = otherAt === -1 ? undefined : process.argv[otherAt + 1];
const ROUNDS = quick ? 5 : 20;
const home = mkdtempSync(join(tmpdir(), 'abproxy-startup-'));
const env = {
  ...process.env,
  ABPROXY_HOME: home,
  LOG_LEVEL: 'error',
  // Nothing answers here: serve's catalogue warm-up fails quietly in the background.
  AWS_ENDPOINT_URL_BEDROCK: 'http://127.0.0.1:9',
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'AKIDBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_REGION: 'us-east-1',
};

function timeCommand(args: string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (run.status !== 0) throw new Error(`abproxy ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return performance.now() - started;
}

function timeServeReady(which = bin): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [which, 'serve', '--port', '0', '--plain'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('listening on')) {
        const ms = performance.now() - started;
        child.kill('SIGTERM');
        child.on('close', () => resolve(ms));
      }
    });
    child.on('exit', (code) => {
      if (!out.includes('listening on')) reject(new Error(`serve exited ${code} before listening`));
    });
  });
}

/** The heavy packages a bare `--version` loads (module.registerHooks records every resolution). */
function heavyModulesOnVersion(): string[] {
  const hook = `import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
process.on('exit', () => process.stderr.write('\\nMODULES ' + JSON.stringify([...seen]) + '\\n'));`;
  const run = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, bin, '--version'],
    { env, encoding: 'utf8' },
  );
  const line = run.stderr.split('\n').find((l) => l.startsWith('MODULES '));
  const urls: string[] = line ? JSON.parse(line.slice('MODULES '.length)) : [];
  const heavy = /node_modules\/(@aws-sdk|@smithy|pino|ink|react|better-sqlite3|conf|prom-client)\//;
  return [
    ...new Set(
      urls.filter((u) => heavy.test(u)).map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)![1]!),
    ),
  ];
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { median: Math.round(at(0.5)), p90: Math.round(at(0.9)), min: Math.round(sorted[0]!) };
}

const nodeOnly: number[] = [];
const version: number[] = [];
const help: number[] = [];
const serve: number[] = [];
const otherServe: number[] = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ['-e', '0']);
    nodeOnly.push(performance.now() - t);
    version.push(timeCommand(['--version']));
    help.push(timeCommand(['--help']));
    if (otherBin && i % 2 === 1) otherServe.push(await timeServeReady(otherBin));
    serve.push(await timeServeReady());
    if (otherBin && i % 2 === 0) otherServe.push(await timeServeReady(otherBin));
  }
  const rows = [
    { what: 'node -e 0 (floor)', ...stats(nodeOnly), target: null },
    { what: 'abproxy --version', ...stats(version), target: 100 },
    { what: 'abproxy --help', ...stats(help), target: null },
    { what: 'abproxy serve ready', ...stats(serve), target: 300 },
    ...(otherBin ? [{ what: '  --gateway-bin serve', ...stats(otherServe), target: null }] : []),
  ];
  const heavy = heavyModulesOnVersion();
  process.stdout.write(`\nStart-up (${ROUNDS} runs each, ms)\n`);
  process.stdout.write(
    `${'what'.padEnd(22)}${'median'.padStart(8)}${'p90'.padStart(8)}${'min'.padStart(8)}  target\n`,
  );
  for (const r of rows) {
    const verdict = r.target === null ? '' : `< ${r.target} ${r.median < r.target ? 'ok' : 'MISSED'}`;
    process.stdout.write(
      `${r.what.padEnd(22)}${String(r.median).padStart(8)}${String(r.p90).padStart(8)}${String(r.min).padStart(8)}  ${verdict}\n`,
    );
  }
  process.stdout.write(
    `heavy packages loaded by --version: ${heavy.length === 0 ? 'none' : heavy.join(', ')}\n`,
  );
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    join(root, 'bench/results/startup.json'),
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, rounds: ROUNDS, rows, heavyOnVersion: heavy, ...(otherBin ? { gatewayBin: otherBin } : {}) }, null, 2)}\n`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}

/**
 * Profiles the gateway under bench-like load:
 *   node bench/profile.ts [--n 4000] [--mode converse|invoke|stream|all] [--cpu-prof] [--heap]
 * Starts the emulator and `abproxy serve` (with --cpu-prof into /tmp/prof when asked), sends N
 * sequential requests, samples process.memoryUsage-like figures from /proc, then stops the gateway
 * with SIGTERM so the profile is written. Aggregate with `node bench/cpuprofile-summary.ts FILE`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '4000' },
    mode: { type: 'string', default: 'all' },
    'cpu-prof': { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '1' },
    'node-flags': { type: 'string', default: '' },
  },
});
const N = Number(values.n);

function start(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp) {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  return new Promise<{ child: ChildProcess; match: RegExpMatchArray }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) resolve({ child, match });
    });
  });
}

function stat(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))?.[1] ?? 0) / 1024;
  return {
    cpuMs: ((Number(fields[11]) + Number(fields[12])) / 100) * 1000,
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
  };
}

const emulator = await start(['test/emulator/main.ts', '--port', '0'], process.env, /"url":"([^"]+)"/);
const emulatorUrl = emulator.match[1]!;
const nodeFlags = values['node-flags'] ? values['node-flags'].split(' ') : [];
const gateway = await start(
  [
    ...nodeFlags,
    ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []),
    'bin/abproxy.js',
    'serve',
    '--port',
    '0',
  ],
  {
    ...process.env,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
    AWS_ENDPOINT_URL_BEDROCK: emulatorUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    MASTER_API_KEY: 'x',
    LOG_LEVEL: 'warn',
  },
  /(http:\/\/\S+)/,
);
const url = gateway.match[1]!;
const pid = gateway.child.pid!;
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
const headers = { 'content-type': 'application/json', 'x-api-key': 'x', 'anthropic-version': '2023-06-01' };
const body = (model: string, stream: boolean) =>
  JSON.stringify({
    model,
    max_tokens: 256,
    stream,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });
const calls: Record<string, string> = {
  converse: body('qwen.qwen3-coder-480b-a35b-v1:0', false),
  stream: body('qwen.qwen3-coder-480b-a35b-v1:0', true),
  invoke: body('claude-sonnet-4-5', false),
  'invoke-stream': body('claude-sonnet-4-5', true),
};
const modes = values.mode === 'all' ? Object.keys(calls) : values.mode.split(',');

async function one(payload: string) {
  const res = await request(`${url}/v1/messages`, {
    method: 'POST',
    dispatcher: agent,
    headers,
    body: payload,
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${res.statusCode}: ${text}`);
}

console.log('idle after start', stat(pid));
if (process.env.PROFILE_MEMSTAT) {
  gateway.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
}
const before = stat(pid);
const started = performance.now();
const concurrency = Number(values.concurrency);
let next = 0;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < N) {
      const i = next++;
      await one(calls[modes[i % modes.length]!]!);
    }
  }),
);
const elapsed = performance.now() - started;
const after = stat(pid);
console.log(
  `${N} requests (${modes.join(',')}) in ${elapsed.toFixed(0)} ms: ${(((after.cpuMs - before.cpuMs) * 1000) / N).toFixed(0)} µs CPU/request`,
);
console.log('after load', after);
if (process.env.PROFILE_MEMSTAT) {
  // Needs `--node-flags "-r /path/memstat.cjs"` printing memory figures on SIGUSR2.
  gateway.child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 200));
}
await agent.close();
if (process.env.PROFILE_SMAPS) {
  const { execSync } = await import('node:child_process');
  console.log(
    execSync(
      `awk '/^[0-9a-f]+-/{name=$6} /^Rss:/{rss[name]+=$2} END{for(n in rss) if (rss[n]>2000) print rss[n], n}' /proc/${pid}/smaps | sort -rn | head -15`,
    ).toString(),
  );
  console.log(
    execSync(
      `grep -E '^[0-9a-f]+-|^Rss' /proc/${pid}/smaps | paste - - | awk '$NF!~/kB/{next} {print $(NF-1), $1, $6}' | sort -rn | head -15`,
    ).toString(),
  );
}
await new Promise((r) => setTimeout(r, 5000));
console.log('after 5 s idle', stat(pid));
gateway.child.kill('SIGTERM');
await new Promise((r) => gateway.child.once('exit', r));
emulator.child.kill('SIGTERM');

/**
 * `npm run bench`: the gateway against a direct call to the same Bedrock emulator, in the same run.
 *
 * Three processes: the emulator, the gateway (`abproxy serve`) and this driver. Figures:
 * - non-stream latency p50/p99 for: raw HTTP to the emulator, the AWS SDK to the emulator, and the
 *   gateway; "added" is gateway minus the direct SDK call (what a user pays over calling Bedrock);
 * - stream time to first token, gateway vs direct SDK ConverseStream;
 * - requests/s at concurrency 1, 32, 128 (streaming), with error counts;
 * - gateway CPU per request (from /proc utime+stime) and RSS after load.
 * Prints a table and writes bench/results/latest.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent, request } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const quick = process.argv.includes('--quick');
const LATENCY_N = quick ? 300 : 2000;
const WARMUP_N = quick ? 100 : 300;
const THROUGHPUT_MS = quick ? 1500 : 4000;
const CREDENTIALS = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };

const anthropicBody = (stream: boolean) =>
  JSON.stringify({
    model: MODEL,
    max_tokens: 256,
    stream,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });

const converseInput = {
  modelId: MODEL,
  system: [{ text: 'You are a terse assistant.' }],
  messages: [{ role: 'user' as const, content: [{ text: 'Say hello in five words.' }] }],
  inferenceConfig: { maxTokens: 256 },
};

/** Starts a child process and resolves with the first stdout line matching `pattern`. */
async function startProcess(
  args: string[],
  env: NodeJS.ProcessEnv,
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out starting ${args.join(' ')}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    });
  });
}

function cpuMicros(pid: number): number {
  // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 Hz on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
}

function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(status.match(new RegExp(`${name}:\\s+(\\d+)`))?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timeEach(n: number, call: () => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call();
    samples.push(performance.now() - started);
  }
  return samples.sort((a, b) => a - b);
}

/** Runs `call` from `concurrency` workers for `durationMs`; returns completed calls/s and errors. */
async function throughput(concurrency: number, durationMs: number, call: () => Promise<void>) {
  let done = 0;
  let errors = 0;
  const until = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < until) {
      try {
        await call();
        done++;
      } catch {
        errors++;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: done / ((performance.now() - started) / 1000), done, errors };
}

const children: ChildProcess[] = [];

async function main() {
  const emulator = await startProcess(
    ['test/emulator/main.ts', '--port', '0'],
    { ...process.env },
    /"url":"([^"]+)"/,
  );
  children.push(emulator.child);
  const emulatorUrl = emulator.match[1]!;
  const gatewayEnv = {
    ...process.env,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
    AWS_ENDPOINT_URL_BEDROCK: emulatorUrl,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    MASTER_API_KEY: 'bench-master-key',
    LOG_LEVEL: 'warn',
  };
  const gateway = await startProcess(
    ['bin/abproxy.js', 'serve', '--port', '0'],
    gatewayEnv,
    /(http:\/\/\S+)/,
  );
  children.push(gateway.child);
  const gatewayUrl = gateway.match[1]!;
  const gatewayPid = gateway.child.pid!;

  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 256 });
  const sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emulatorUrl,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({
      httpAgent: new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 256 }),
    }),
  });

  const rawConverse = async () => {
    const res = await request(`${emulatorUrl}/model/${encodeURIComponent(MODEL)}/converse`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
      body: JSON.stringify({ ...converseInput, modelId: undefined }),
    });
    if (res.statusCode !== 200) throw new Error(`emulator ${res.statusCode}: ${await res.body.text()}`);
    await res.body.json();
  };
  const sdkConverse = async () => {
    await sdk.send(new ConverseCommand(converseInput));
  };
  const gatewayHeaders = {
    'content-type': 'application/json',
    'x-api-key': 'bench-master-key',
    'anthropic-version': '2023-06-01',
  };
  const gatewayMessage = async () => {
    const res = await request(`${gatewayUrl}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: gatewayHeaders,
      body: anthropicBody(false),
    });
    if (res.statusCode !== 200) throw new Error(`gateway ${res.statusCode}: ${await res.body.text()}`);
    await res.body.json();
  };
  /** Streams one message through the gateway; resolves with ms to the first text delta. */
  const gatewayStream = async (): Promise<number> => {
    const started = performance.now();
    const res = await request(`${gatewayUrl}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: gatewayHeaders,
      body: anthropicBody(true),
    });
    if (res.statusCode !== 200) throw new Error(`gateway ${res.statusCode}: ${await res.body.text()}`);
    let firstToken = Number.NaN;
    let text = '';
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (Number.isNaN(firstToken) && text.includes('content_block_delta'))
        firstToken = performance.now() - started;
    }
    if (!text.includes('event: message_stop')) throw new Error('stream ended without message_stop');
    return firstToken;
  };
  const sdkStream = async (): Promise<number> => {
    const started = performance.now();
    const out = await sdk.send(new ConverseStreamCommand(converseInput));
    let firstToken = Number.NaN;
    for await (const event of out.stream!) {
      if (Number.isNaN(firstToken) && event.contentBlockDelta) firstToken = performance.now() - started;
    }
    return firstToken;
  };

  // Warm both paths (JIT, connection pools, catalogue caches).
  for (let i = 0; i < WARMUP_N; i++) {
    await Promise.all([rawConverse(), sdkConverse(), gatewayMessage(), gatewayStream(), sdkStream()]);
  }

  const raw = await timeEach(LATENCY_N, rawConverse);
  const direct = await timeEach(LATENCY_N, sdkConverse);
  const cpuBefore = cpuMicros(gatewayPid);
  const viaGateway = await timeEach(LATENCY_N, gatewayMessage);
  const cpuPerRequest = (cpuMicros(gatewayPid) - cpuBefore) / LATENCY_N;

  const ttftDirect: number[] = [];
  const ttftGateway: number[] = [];
  for (let i = 0; i < LATENCY_N / 2; i++) {
    ttftDirect.push(await sdkStream());
    ttftGateway.push(await gatewayStream());
  }
  ttftDirect.sort((a, b) => a - b);
  ttftGateway.sort((a, b) => a - b);

  const rates: Record<string, { direct: number; gateway: number; gatewayErrors: number }> = {};
  for (const concurrency of [1, 32, 128]) {
    const d = await throughput(concurrency, THROUGHPUT_MS, async () => void (await sdkStream()));
    const g = await throughput(concurrency, THROUGHPUT_MS, async () => void (await gatewayStream()));
    rates[`c${concurrency}`] = { direct: d.rps, gateway: g.rps, gatewayErrors: g.errors + d.errors };
  }
  const memory = memoryMb(gatewayPid);

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    model: MODEL,
    samples: LATENCY_N,
    latencyMs: {
      rawHttp: { p50: percentile(raw, 50), p99: percentile(raw, 99) },
      directSdk: { p50: percentile(direct, 50), p99: percentile(direct, 99) },
      gateway: { p50: percentile(viaGateway, 50), p99: percentile(viaGateway, 99) },
      addedOverSdk: {
        p50: percentile(viaGateway, 50) - percentile(direct, 50),
        p99: percentile(viaGateway, 99) - percentile(direct, 99),
      },
      addedOverRawHttp: { p50: percentile(viaGateway, 50) - percentile(raw, 50) },
    },
    ttftMs: {
      directSdk: percentile(ttftDirect, 50),
      gateway: percentile(ttftGateway, 50),
      added: percentile(ttftGateway, 50) - percentile(ttftDirect, 50),
    },
    gatewayCpuMicrosPerRequest: cpuPerRequest,
    requestsPerSecond: rates,
    gatewayMemoryMb: memory,
  };

  const f = (n: number) => n.toFixed(3);
  console.log(`\nabproxy bench — ${results.date}, Node ${results.node}, model ${MODEL}, n=${LATENCY_N}\n`);
  console.log('| measure | direct (raw HTTP) | direct (AWS SDK) | via gateway | added over SDK |');
  console.log('|---|---|---|---|---|');
  const l = results.latencyMs;
  console.log(
    `| non-stream p50 ms | ${f(l.rawHttp.p50)} | ${f(l.directSdk.p50)} | ${f(l.gateway.p50)} | ${f(l.addedOverSdk.p50)} |`,
  );
  console.log(
    `| non-stream p99 ms | ${f(l.rawHttp.p99)} | ${f(l.directSdk.p99)} | ${f(l.gateway.p99)} | ${f(l.addedOverSdk.p99)} |`,
  );
  const t = results.ttftMs;
  console.log(`| stream TTFT p50 ms | | ${f(t.directSdk)} | ${f(t.gateway)} | ${f(t.added)} |`);
  for (const [name, r] of Object.entries(rates)) {
    console.log(
      `| streams/s ${name} | | ${r.direct.toFixed(0)} | ${r.gateway.toFixed(0)} (errors ${r.gatewayErrors}) | |`,
    );
  }
  console.log(`\ngateway CPU per non-stream request: ${cpuPerRequest.toFixed(0)} µs`);
  console.log(
    `gateway memory after load: RSS ${memory.rss.toFixed(0)} MB, peak ${memory.peak.toFixed(0)} MB`,
  );

  const out = join(root, 'bench/results/latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten ${out}`);

  gateway.child.kill('SIGTERM');
  emulator.child.kill('SIGTERM');
  await agent.close();
  sdk.destroy();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
});

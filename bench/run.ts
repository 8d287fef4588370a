/**
 * `npm run bench`: the gateway against a direct call to the same Bedrock emulator, in the same run.
 *
 * Four processes: the emulator, the gateway (`abproxy serve`), a do-nothing node:http forwarder (the
 * floor any gateway pays: one more HTTP hop, bench/forwarder.ts) and this driver. Figures:
 * - non-stream latency p50/p99 for: raw HTTP to the emulator, the same through the forwarder, the AWS
 *   SDK to the emulator, and the gateway; "added" is gateway minus the direct SDK call (what a user pays
 *   over calling Bedrock). Two model rows: Converse (qwen) and native Claude (InvokeModel);
 * - stream time to first token, gateway vs direct SDK (ConverseStream / InvokeModelWithResponseStream);
 * - requests/s at concurrency 1, 32, 128 (streaming), with error counts;
 * - CPU per request of the gateway (per path) and of the forwarder, from every thread's
 *   /proc/<pid>/task/<tid>/schedstat (nanoseconds, unlike the 10 ms ticks of /proc/<pid>/stat), and
 *   the gateway's RSS after load and after a short idle.
 * Prints a table and writes bench/results/latest.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent, request } from 'undici';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
/** The client's Claude name (→ InvokeModel in the gateway) and the inference profile it resolves to. */
const CLAUDE = 'claude-sonnet-4-5';
const CLAUDE_PROFILE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const quick = process.argv.includes('--quick');
const LATENCY_N = quick ? 300 : 2000;
const WARMUP_N = quick ? 100 : 300;
const THROUGHPUT_MS = quick ? 1500 : 4000;
/** Sequential calls per CPU figure: at ~0.5 ms each, enough for a stable per-request figure. */
const CPU_N = quick ? 1000 : 3000;
const IDLE_MS = quick ? 2000 : 5000;
const CREDENTIALS = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };

const anthropicBody = (stream: boolean, model = MODEL) =>
  JSON.stringify({
    model,
    max_tokens: 256,
    stream,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });

const invokeInput = {
  modelId: CLAUDE_PROFILE,
  contentType: 'application/json',
  accept: 'application/json',
  body: JSON.stringify({
    anthropic_version: 'bedrock-2023-05-31',
    max_tokens: 256,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  }),
};

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

/** CPU time of every thread of a process, in µs (schedstat's first field is ns on the CPU). */
function cpuMicros(pid: number): number {
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

/** CPU µs per call of `pid` while `n` sequential calls run. */
async function cpuPerCall(pid: number, n: number, call: () => Promise<unknown>): Promise<number> {
  const before = cpuMicros(pid);
  for (let i = 0; i < n; i++) await call();
  return (cpuMicros(pid) - before) / n;
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
  const home = mkdtempSync(join(tmpdir(), 'abproxy-bench-'));
  const emulator = await startProcess(
    ['test/emulator/main.ts', '--port', '0'],
    { ...process.env },
    /"url":"([^"]+)"/,
  );
  children.push(emulator.child);
  const emulatorUrl = emulator.match[1]!;
  const forwarder = await startProcess(
    ['bench/forwarder.ts', '--upstream', emulatorUrl],
    { ...process.env },
    /"url":"([^"]+)"/,
  );
  children.push(forwarder.child);
  const forwarderUrl = forwarder.match[1]!;
  const gatewayEnv = {
    ...process.env,
    ABPROXY_HOME: home,
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

  const rawBody = JSON.stringify({ ...converseInput, modelId: undefined });
  const rawConverseVia = (base: string) => async () => {
    const res = await request(`${base}/model/${encodeURIComponent(MODEL)}/converse`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
      body: rawBody,
    });
    if (res.statusCode !== 200) throw new Error(`emulator ${res.statusCode}: ${await res.body.text()}`);
    await res.body.json();
  };
  const rawConverse = rawConverseVia(emulatorUrl);
  const forwardedConverse = rawConverseVia(forwarderUrl);
  const sdkConverse = async () => {
    await sdk.send(new ConverseCommand(converseInput));
  };
  const sdkInvoke = async () => {
    const out = await sdk.send(new InvokeModelCommand(invokeInput));
    JSON.parse(Buffer.from(out.body).toString('utf8'));
  };
  const gatewayHeaders = {
    'content-type': 'application/json',
    'x-api-key': 'bench-master-key',
    'anthropic-version': '2023-06-01',
  };
  const gatewayMessage = (model: string) => async () => {
    const res = await request(`${gatewayUrl}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: gatewayHeaders,
      body: anthropicBody(false, model),
    });
    if (res.statusCode !== 200) throw new Error(`gateway ${res.statusCode}: ${await res.body.text()}`);
    await res.body.json();
  };
  /** Streams one message through the gateway; resolves with ms to the first content delta. */
  const gatewayStream = (model: string) => async (): Promise<number> => {
    const started = performance.now();
    const res = await request(`${gatewayUrl}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: gatewayHeaders,
      body: anthropicBody(true, model),
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
  const sdkInvokeStream = async (): Promise<number> => {
    const started = performance.now();
    const out = await sdk.send(new InvokeModelWithResponseStreamCommand(invokeInput));
    let firstToken = Number.NaN;
    for await (const event of out.body!) {
      if (Number.isNaN(firstToken) && event.chunk?.bytes) {
        if (Buffer.from(event.chunk.bytes).toString('utf8').includes('content_block_delta'))
          firstToken = performance.now() - started;
      }
    }
    return firstToken;
  };
  const gatewayConverse = gatewayMessage(MODEL);
  const gatewayClaude = gatewayMessage(CLAUDE);
  const gatewayConverseStream = gatewayStream(MODEL);
  const gatewayClaudeStream = gatewayStream(CLAUDE);

  // Warm every path (JIT, connection pools, catalogue caches).
  for (let i = 0; i < WARMUP_N; i++) {
    await Promise.all([
      rawConverse(),
      forwardedConverse(),
      sdkConverse(),
      sdkInvoke(),
      gatewayConverse(),
      gatewayClaude(),
      gatewayConverseStream(),
      gatewayClaudeStream(),
      sdkStream(),
      sdkInvokeStream(),
    ]);
  }

  const raw = await timeEach(LATENCY_N, rawConverse);
  const forwarded = await timeEach(LATENCY_N, forwardedConverse);
  const direct = await timeEach(LATENCY_N, sdkConverse);
  const viaGateway = await timeEach(LATENCY_N, gatewayConverse);
  const directClaude = await timeEach(LATENCY_N, sdkInvoke);
  const viaGatewayClaude = await timeEach(LATENCY_N, gatewayClaude);

  const ttft = {
    direct: [] as number[],
    gateway: [] as number[],
    directClaude: [] as number[],
    gatewayClaude: [] as number[],
  };
  for (let i = 0; i < LATENCY_N / 2; i++) {
    ttft.direct.push(await sdkStream());
    ttft.gateway.push(await gatewayConverseStream());
    ttft.directClaude.push(await sdkInvokeStream());
    ttft.gatewayClaude.push(await gatewayClaudeStream());
  }
  for (const list of Object.values(ttft)) list.sort((a, b) => a - b);

  // CPU per request, each path on its own so the figures do not mix.
  const cpu = {
    forwarder: await cpuPerCall(forwarder.child.pid!, CPU_N, forwardedConverse),
    gatewayConverse: await cpuPerCall(gatewayPid, CPU_N, gatewayConverse),
    gatewayClaude: await cpuPerCall(gatewayPid, CPU_N, gatewayClaude),
    gatewayConverseStream: await cpuPerCall(gatewayPid, CPU_N, gatewayConverseStream),
    gatewayClaudeStream: await cpuPerCall(gatewayPid, CPU_N, gatewayClaudeStream),
  };

  const rates: Record<string, { direct: number; gateway: number; gatewayErrors: number }> = {};
  for (const concurrency of [1, 32, 128]) {
    const d = await throughput(concurrency, THROUGHPUT_MS, async () => void (await sdkStream()));
    const g = await throughput(concurrency, THROUGHPUT_MS, async () => void (await gatewayConverseStream()));
    rates[`c${concurrency}`] = { direct: d.rps, gateway: g.rps, gatewayErrors: g.errors + d.errors };
  }
  const memory = memoryMb(gatewayPid);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  const memoryIdle = memoryMb(gatewayPid);

  const p = (samples: number[]) => ({ p50: percentile(samples, 50), p99: percentile(samples, 99) });
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    model: MODEL,
    claudeModel: CLAUDE,
    samples: LATENCY_N,
    latencyMs: {
      rawHttp: p(raw),
      forwarder: p(forwarded),
      directSdk: p(direct),
      gateway: p(viaGateway),
      addedOverSdk: {
        p50: percentile(viaGateway, 50) - percentile(direct, 50),
        p99: percentile(viaGateway, 99) - percentile(direct, 99),
      },
      addedOverRawHttp: { p50: percentile(viaGateway, 50) - percentile(raw, 50) },
      forwarderAddedOverRawHttp: { p50: percentile(forwarded, 50) - percentile(raw, 50) },
      claude: {
        directSdk: p(directClaude),
        gateway: p(viaGatewayClaude),
        addedOverSdk: {
          p50: percentile(viaGatewayClaude, 50) - percentile(directClaude, 50),
          p99: percentile(viaGatewayClaude, 99) - percentile(directClaude, 99),
        },
      },
    },
    ttftMs: {
      directSdk: percentile(ttft.direct, 50),
      gateway: percentile(ttft.gateway, 50),
      added: percentile(ttft.gateway, 50) - percentile(ttft.direct, 50),
      claude: {
        directSdk: percentile(ttft.directClaude, 50),
        gateway: percentile(ttft.gatewayClaude, 50),
        added: percentile(ttft.gatewayClaude, 50) - percentile(ttft.directClaude, 50),
      },
    },
    cpuMicrosPerRequest: cpu,
    gatewayCpuMicrosPerRequest: cpu.gatewayConverse,
    requestsPerSecond: rates,
    gatewayMemoryMb: memory,
    gatewayMemoryMbAfterIdle: memoryIdle,
  };

  const f = (n: number) => n.toFixed(3);
  console.log(
    `\nabproxy bench — ${results.date}, Node ${results.node}, models ${MODEL} (Converse) and ${CLAUDE} (InvokeModel), n=${LATENCY_N}\n`,
  );
  console.log(
    '| measure | direct (raw HTTP) | raw via forwarder | direct (AWS SDK) | via gateway | added over SDK |',
  );
  console.log('|---|---|---|---|---|---|');
  const l = results.latencyMs;
  for (const q of ['p50', 'p99'] as const) {
    console.log(
      `| Converse non-stream ${q} ms | ${f(l.rawHttp[q])} | ${f(l.forwarder[q])} | ${f(l.directSdk[q])} | ${f(l.gateway[q])} | ${f(l.addedOverSdk[q])} |`,
    );
  }
  for (const q of ['p50', 'p99'] as const) {
    console.log(
      `| Claude (InvokeModel) non-stream ${q} ms | | | ${f(l.claude.directSdk[q])} | ${f(l.claude.gateway[q])} | ${f(l.claude.addedOverSdk[q])} |`,
    );
  }
  const t = results.ttftMs;
  console.log(`| Converse stream TTFT p50 ms | | | ${f(t.directSdk)} | ${f(t.gateway)} | ${f(t.added)} |`);
  console.log(
    `| Claude stream TTFT p50 ms | | | ${f(t.claude.directSdk)} | ${f(t.claude.gateway)} | ${f(t.claude.added)} |`,
  );
  for (const [name, r] of Object.entries(rates)) {
    console.log(
      `| Converse streams/s ${name} | | | ${r.direct.toFixed(0)} | ${r.gateway.toFixed(0)} (errors ${r.gatewayErrors}) | |`,
    );
  }
  console.log(
    `\nforwarder floor: +${f(l.forwarderAddedOverRawHttp.p50)} ms p50 over raw HTTP, ${cpu.forwarder.toFixed(0)} µs CPU per request`,
  );
  console.log(
    `gateway CPU per request (µs): Converse ${cpu.gatewayConverse.toFixed(0)}, Claude ${cpu.gatewayClaude.toFixed(0)}, ` +
      `Converse stream ${cpu.gatewayConverseStream.toFixed(0)}, Claude stream ${cpu.gatewayClaudeStream.toFixed(0)}`,
  );
  console.log(
    `gateway memory: RSS ${memory.rss.toFixed(0)} MB after load (peak ${memory.peak.toFixed(0)} MB), ` +
      `${memoryIdle.rss.toFixed(0)} MB after ${IDLE_MS / 1000} s idle`,
  );

  const out = join(root, 'bench/results/latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten ${out}`);

  for (const child of children) child.kill('SIGTERM');
  await agent.close();
  sdk.destroy();
  rmSync(home, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
});

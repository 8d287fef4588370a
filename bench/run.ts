/**
 * `npm run bench` (first part): the gateway beside the "bare hop" (bench/forwarder.ts, lean mode: node:http
 * + an undici Pool, no parsing) in the same run, each target printed as a ratio to the hop with PASS/FAIL.
 * The piped hop (forwarder.ts --mode piped, twice the CPU per request) and the minimal gateway
 * (bench/minimal-gateway.ts: key check, text-only translation, SigV4, nothing else) are measured for
 * information: the CPU a gateway cannot avoid, beside what ours spends on its features.
 *
 * Four processes: the Bedrock emulator, the bare hop and the gateway (`abproxy serve`), all on the same
 * emulator, and this driver. Hop and gateway are measured in turns, `--rounds` times (3; `--quick`: 2,
 * shorter), and every figure is the median over the rounds (the machine is shared: say how noisy).
 * - CPU per request at c=128 (non-stream Converse): the process's own CPU time over the window, from
 *   every thread's /proc/<pid>/task/<tid>/schedstat (ns), divided by the requests completed in it;
 * - req/s at c=128, same window;
 * - added p50 at c=1: emulator alone, via hop and via gateway interleaved call by call, minus the
 *   emulator's p50 (the minimal gateway takes a turn too, for information: the floor of a gateway).
 *   The calls made to the emulator alone and through the hop are SigV4-signed as the gateway signs its
 *   own (the emulator's test key, re-signed every second), so the emulator does the same authentication
 *   work on every path. With a bearer key it skipped that work on the baseline paths only: ~40 µs a call
 *   at c=1 (measured: a signed call to the emulator alone against a bearer one), counted against the
 *   gateway. Under load the check is ~1 µs; at c=1 it is cold code like everything else;
 * - stream time to first content (the first contentBlockDelta / content_block_delta), interleaved the
 *   same way, minus the emulator's;
 * - RSS (VmRSS) after the load and after the whole run, VmHWM (peak);
 * - 2,000 concurrent slow streams (40 events, one every 50 ms) against one such stream alone, twice
 *   each, in the order hop, gateway, gateway, hop (the second burst of a run is slower, whoever runs it).
 * Info rows: gateway CPU per request for the Claude (InvokeModel) and streaming paths, and for Claude on
 * the `messages` path (Bedrock's Anthropic Messages API, SSE passed through) beside the invoke path: the
 * same Bedrock model under a second client name that `ABPROXY_CLAUDE_PATHS` routes there.
 * Pool row (bench/pool-cpu.ts): CPU per request of a gateway with a three-upstream pool (ABPROXY_UPSTREAMS,
 * all on the same emulator) beside a single-upstream gateway, both fresh and driven at the same time at
 * the same request rate (≤ 1.05×).
 * Options: --quick, --rounds N, --gateway-flags "…" (Node/V8 flags for the gateway process only),
 * --gateway-bin PATH (another checkout's bin/abproxy.js, for before/after in the same conditions),
 * --streams N (the slow-stream count), --no-streams. Writes bench/results/latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { SigV4Signer } from '../src/upstream/sigv4.ts';
import {
  EMULATOR_CREDENTIALS,
  gatewayEnv,
  load,
  median,
  memoryOf,
  root,
  spread,
  startEmulator,
  startHop,
  startMinimalGateway,
  startProcess,
  stopAll,
} from './lib.ts';
import { measurePoolCpu, poolCpuTableRow } from './pool-cpu.ts';

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'gateway-flags': { type: 'string', default: '' },
    'gateway-bin': { type: 'string', default: 'bin/abproxy.js' },
    streams: { type: 'string', default: '2000' },
    'no-streams': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
const quick = opts.quick;
const ROUNDS = Number(opts.rounds ?? (quick ? 2 : 3));
const WINDOW_MS = quick ? 2000 : 4000;
const LATENCY_N = quick ? 300 : 1000;
const WARMUP_N = quick ? 200 : 500;
const SLOW_STREAMS = Number(opts.streams);
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5';
/** The same Bedrock model as CLAUDE, routed to the `messages` Claude path (see the gateway's env). */
const CLAUDE_MESSAGES = 'bench-claude-messages-path';

const anthropicBody = (stream: boolean, model = MODEL) =>
  JSON.stringify({
    model,
    max_tokens: 256,
    stream,
    system: 'You are a terse assistant.',
    messages: [{ role: 'user', content: 'Say hello in five words.' }],
  });
/** The same request in Converse form, for the emulator alone and the bare hop. */
const converseBody = JSON.stringify({
  system: [{ text: 'You are a terse assistant.' }],
  messages: [{ role: 'user', content: [{ text: 'Say hello in five words.' }] }],
  inferenceConfig: { maxTokens: 256 },
});

async function main() {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-bench-'));
  const emulatorUrl = await startEmulator();
  const hop = await startHop(emulatorUrl);
  const hopUrl = hop.url;
  // Information: the hop that streams both ways through node streams, the baseline of earlier reports.
  const pipedHop = await startHop(emulatorUrl, 'piped');
  // Information: the least a gateway can do (key check, text-only translation, SigV4), a floor with features off.
  const minimal = await startMinimalGateway(emulatorUrl);
  const gateway = await startProcess(
    [
      ...opts['gateway-flags'].split(' ').filter(Boolean),
      opts['gateway-bin'],
      'serve',
      '--port',
      '0',
      '--plain',
    ],
    gatewayEnv(emulatorUrl, home, {
      ABPROXY_MODEL_MAP: JSON.stringify({
        [CLAUDE_MESSAGES]: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      }),
      ABPROXY_CLAUDE_PATHS: JSON.stringify({ [CLAUDE_MESSAGES]: 'messages' }),
    }),
    /(http:\/\/\S+)/,
  );
  const gatewayUrl = gateway.match[1]!;

  const agent = new Agent({ keepAliveTimeout: 30_000, connections: SLOW_STREAMS + 256 });
  const emulatorControl = async (path: string, body: unknown) => {
    const res = await request(`${emulatorUrl}/__emulator/${path}`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify(body),
    });
    await res.body.text();
  };

  /** One call; resolves with ms to the first byte that holds `marker` (NaN if none), after reading all. */
  const call = async (url: string, headers: Record<string, string>, body: string, marker?: string) => {
    const started = performance.now();
    const res = await request(url, { method: 'POST', dispatcher: agent, headers, body });
    let first = Number.NaN;
    let tail = '';
    for await (const chunk of res.body) {
      if (marker && Number.isNaN(first)) {
        tail = (tail + chunk.toString('latin1')).slice(-4096);
        if (tail.includes(marker)) first = performance.now() - started;
      }
    }
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode}`);
    return first;
  };
  // The baseline calls, signed for the emulator's host (the hop forwards them there unchanged): see the
  // header comment. One signature per operation a second, as the gateway's own repeat within a second.
  const baselineSigner = new SigV4Signer({ service: 'bedrock', credentials: EMULATOR_CREDENTIALS });
  const baselinePath = (operation: string) => `/model/${encodeURIComponent(MODEL)}/${operation}`;
  const signedHeaders: Record<string, Record<string, string>> = {};
  const signBaseline = async () => {
    for (const operation of ['converse', 'converse-stream']) {
      signedHeaders[operation] = await baselineSigner.sign({
        method: 'POST',
        host: new URL(emulatorUrl).host,
        path: baselinePath(operation),
        headers: { 'content-type': 'application/json' },
        body: converseBody,
        region: 'us-east-1',
      });
    }
  };
  await signBaseline();
  setInterval(signBaseline, 1000).unref();
  const converseVia = (base: string) => () =>
    call(`${base}${baselinePath('converse')}`, signedHeaders.converse!, converseBody);
  const converseStreamVia = (base: string) => () =>
    call(
      `${base}${baselinePath('converse-stream')}`,
      signedHeaders['converse-stream']!,
      converseBody,
      'contentBlockDelta',
    );
  const gatewayHeaders = {
    'content-type': 'application/json',
    'x-api-key': 'bench-master-key',
    'anthropic-version': '2023-06-01',
  };
  const gatewayCall =
    (stream: boolean, model = MODEL) =>
    () =>
      call(
        `${gatewayUrl}/v1/messages`,
        gatewayHeaders,
        anthropicBody(stream, model),
        stream ? 'content_block_delta' : undefined,
      );
  const minimalCall = () => call(`${minimal.url}/v1/messages`, gatewayHeaders, anthropicBody(false));
  const paths = {
    emulator: { message: converseVia(emulatorUrl), stream: converseStreamVia(emulatorUrl) },
    hop: { message: converseVia(hopUrl), stream: converseStreamVia(hopUrl) },
    gateway: { message: gatewayCall(false), stream: gatewayCall(true) },
  };

  // Warm every path (JIT, connection pools, the gateway's catalogue).
  for (let i = 0; i < WARMUP_N; i++) {
    await Promise.all([
      ...Object.values(paths).flatMap((p) => [p.message(), p.stream()]),
      gatewayCall(false, CLAUDE)(),
      gatewayCall(true, CLAUDE)(),
      gatewayCall(false, CLAUDE_MESSAGES)(),
      gatewayCall(true, CLAUDE_MESSAGES)(),
      converseVia(pipedHop.url)(),
      minimalCall(),
    ]);
  }

  type Round = Record<string, number>;
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await emulatorControl('reset', {});
    const round: Round = {};
    // c=128 non-stream: hop then gateway (then the other order next round, so neither always goes first).
    const order = r % 2 === 0 ? (['hop', 'gateway'] as const) : (['gateway', 'hop'] as const);
    for (const who of order) {
      const pid = who === 'hop' ? hop.pid : gateway.pid;
      const result = await load(pid, 128, WINDOW_MS, paths[who].message);
      round[`${who}Rps`] = result.rps;
      round[`${who}Cpu`] = result.cpuPerRequest;
      round[`${who}Errors`] = result.errors;
    }
    // Information: the piped hop's CPU per request at c=128.
    round.pipedHopCpu = (
      await load(pipedHop.pid, 128, WINDOW_MS / 2, converseVia(pipedHop.url))
    ).cpuPerRequest;
    round.minimalGatewayCpu = (await load(minimal.pid, 128, WINDOW_MS / 2, minimalCall)).cpuPerRequest;
    // c=1, interleaved call by call: non-stream latency and stream time to first content.
    // The minimal gateway (non-stream only) takes its turn too: the latency floor of any gateway that
    // translates and signs, measured in the same conditions.
    const latency: Record<string, number[]> = { emulator: [], hop: [], gateway: [], minimal: [] };
    const ttfc: Record<string, number[]> = { emulator: [], hop: [], gateway: [] };
    for (let i = 0; i < LATENCY_N; i++) {
      for (const [who, p] of Object.entries(paths)) {
        const started = performance.now();
        await p.message();
        latency[who]!.push(performance.now() - started);
        ttfc[who]!.push(await p.stream());
      }
      const started = performance.now();
      await minimalCall();
      latency.minimal!.push(performance.now() - started);
    }
    round.minimalAddedP50 = median(latency.minimal!) - median(latency.emulator!);
    for (const who of ['hop', 'gateway']) {
      round[`${who}AddedP50`] = median(latency[who]!) - median(latency.emulator!);
      round[`${who}TtfcOverhead`] = median(ttfc[who]!) - median(ttfc.emulator!);
    }
    round.emulatorP50 = median(latency.emulator!);
    round.emulatorTtfc = median(ttfc.emulator!);
    // Info: the gateway's CPU per request on its other paths (c=32).
    round.gatewayCpuClaude = (
      await load(gateway.pid, 32, WINDOW_MS / 2, gatewayCall(false, CLAUDE))
    ).cpuPerRequest;
    round.gatewayCpuStream = (await load(gateway.pid, 32, WINDOW_MS / 2, paths.gateway.stream)).cpuPerRequest;
    round.gatewayCpuClaudeStream = (
      await load(gateway.pid, 32, WINDOW_MS / 2, gatewayCall(true, CLAUDE))
    ).cpuPerRequest;
    Object.assign(round, await claudeMessagesPathCpu(gateway.pid, gatewayCall));
    rounds.push(round);
    console.log(
      `round ${r + 1}/${ROUNDS}: ${JSON.stringify(round, (_, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v))}`,
    );
  }
  const afterLoad = { gateway: memoryOf(gateway.pid), hop: memoryOf(hop.pid) };

  // 2,000 slow streams at once: 40 events each, one every 50 ms, against one stream alone.
  let slow: Record<string, number> | undefined;
  if (!opts['no-streams']) {
    const turn = { text: 'abcd'.repeat(36), chunkSize: 4, chunkDelayMs: 50 };
    const streamsVia = async (who: 'hop' | 'gateway', n: number) => {
      await emulatorControl('reset', {});
      await emulatorControl(
        'script',
        Array.from({ length: n }, () => turn),
      );
      const started = performance.now();
      const results = await Promise.allSettled(Array.from({ length: n }, () => paths[who].stream()));
      const rejected = results.filter((r) => r.status === 'rejected');
      if (rejected.length > 0)
        console.error(`${who}: ${rejected.length} streams failed, first:`, rejected[0]!.reason);
      const failed = rejected.length;
      return { ms: performance.now() - started, failed };
    };
    // Whichever burst runs second is slower, whoever runs it (the emulator and the driver carry the first
    // one's heap): hop, gateway, gateway, hop, and each one's mean of its two, so neither always pays it.
    slow = { hopOneMs: 0, hopManyMs: 0, hopFailed: 0, gatewayOneMs: 0, gatewayManyMs: 0, gatewayFailed: 0 };
    for (const who of ['hop', 'gateway', 'gateway', 'hop'] as const) {
      const one = await streamsVia(who, 1);
      const many = await streamsVia(who, SLOW_STREAMS);
      slow[`${who}OneMs`]! += one.ms / 2;
      slow[`${who}ManyMs`]! += many.ms / 2;
      slow[`${who}Failed`]! += many.failed;
    }
    await emulatorControl('reset', {});
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const end = { gateway: memoryOf(gateway.pid), hop: memoryOf(hop.pid) };

  const m = (key: string) => median(rounds.map((r) => r[key]!));
  const s = (key: string) => spread(rounds.map((r) => r[key]!));
  type Row = {
    target: string;
    hop: number;
    gateway: number;
    unit: string;
    ratio: number;
    limit: number;
    pass: boolean;
  };
  const rows: Row[] = [];
  const ratioRow = (target: string, key: string, unit: string, limit: number, atLeast = false) => {
    const hopValue = m(`hop${key}`);
    const gatewayValue = m(`gateway${key}`);
    const ratio = gatewayValue / hopValue;
    rows.push({
      target,
      hop: hopValue,
      gateway: gatewayValue,
      unit,
      ratio,
      limit,
      pass: atLeast ? ratio >= limit : ratio <= limit,
    });
  };
  ratioRow('CPU per request, c=128 non-stream (≤ 2× hop)', 'Cpu', 'µs', 2);
  ratioRow('req/s at c=128 (≥ 0.5× hop)', 'Rps', 'req/s', 0.5, true);
  ratioRow('added p50 at c=1, interleaved (≤ 1.5× hop)', 'AddedP50', 'ms', 1.5);
  ratioRow('stream time-to-first-content overhead (≤ 1.5× hop)', 'TtfcOverhead', 'ms', 1.5);

  const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(3));
  console.log(
    `\nabproxy bench — ${new Date().toISOString()}, Node ${process.version}, ${ROUNDS} rounds (medians), ${quick ? 'quick' : 'full'}`,
  );
  console.log('| target | bare hop | gateway | ratio | limit | verdict | spread hop/gw |');
  console.log('|---|---|---|---|---|---|---|');
  const keys = ['Cpu', 'Rps', 'AddedP50', 'TtfcOverhead'];
  rows.forEach((r, i) => {
    const k = keys[i]!;
    console.log(
      `| ${r.target} | ${fmt(r.hop)} ${r.unit} | ${fmt(r.gateway)} ${r.unit} | ${r.ratio.toFixed(2)} | ${r.limit} | ${r.pass ? 'PASS' : 'FAIL'} | ${s(`hop${k}`).toFixed(0)}% / ${s(`gateway${k}`).toFixed(0)}% |`,
    );
  });
  const rssPass = end.gateway.rss <= 150;
  console.log(
    `| RSS after the whole run (≤ 150 MB) | ${end.hop.rss.toFixed(0)} MB | ${end.gateway.rss.toFixed(0)} MB | ${(end.gateway.rss / end.hop.rss).toFixed(2)} | 150 MB | ${rssPass ? 'PASS' : 'FAIL'} | |`,
  );
  if (slow) {
    const within = slow.gatewayManyMs! / slow.gatewayOneMs!;
    const pass = within <= 3 && end.gateway.peak <= 250 && slow.gatewayFailed === 0;
    console.log(
      `| ${SLOW_STREAMS} slow streams at once / one alone (≤ 3×, peak RSS ≤ 250 MB) | ${(slow.hopManyMs! / slow.hopOneMs!).toFixed(2)}× (${fmt(slow.hopManyMs!)} ms, ${slow.hopFailed} failed, peak ${end.hop.peak.toFixed(0)} MB) | ${within.toFixed(2)}× (${fmt(slow.gatewayManyMs!)} ms, ${slow.gatewayFailed} failed, peak ${end.gateway.peak.toFixed(0)} MB) | | 3× | ${pass ? 'PASS' : 'FAIL'} | |`,
    );
  }
  // Two fresh gateways of their own (single upstream, three-upstream pool) driven at the same time.
  const pool = await measurePoolCpu({
    emulatorUrl,
    singleBin: opts['gateway-bin'],
    gatewayFlags: opts['gateway-flags'].split(' ').filter(Boolean),
    windows: quick ? 8 : 12,
    windowMs: 1500,
  });
  console.log(poolCpuTableRow(pool));
  console.log(
    `\ninfo: emulator alone p50 ${fmt(m('emulatorP50'))} ms, time to first content ${fmt(m('emulatorTtfc'))} ms; ` +
      `gateway CPU/request (c=32): Claude ${fmt(m('gatewayCpuClaude'))} µs, Converse stream ${fmt(m('gatewayCpuStream'))} µs, Claude stream ${fmt(m('gatewayCpuClaudeStream'))} µs; ` +
      `errors hop ${rounds.reduce((a, r) => a + r.hopErrors!, 0)}, gateway ${rounds.reduce((a, r) => a + r.gatewayErrors!, 0)}`,
  );
  console.log(
    `info: Claude messages path CPU/request (c=32): ${fmt(m('gatewayCpuClaudeMessages'))} µs non-stream, ${fmt(m('gatewayCpuClaudeMessagesStream'))} µs stream; ` +
      `invoke path ${fmt(m('gatewayCpuClaude'))} / ${fmt(m('gatewayCpuClaudeStream'))} µs ` +
      `(messages ÷ invoke: ${(m('gatewayCpuClaudeMessages') / m('gatewayCpuClaude')).toFixed(2)} / ${(m('gatewayCpuClaudeMessagesStream') / m('gatewayCpuClaudeStream')).toFixed(2)})`,
  );
  console.log(
    `info: the piped hop (streams both ways through node streams; the baseline of reports before 2026-12-03) ` +
      `CPU/request at c=128: ${fmt(m('pipedHopCpu'))} µs, ${(m('pipedHopCpu') / m('hopCpu')).toFixed(2)}× the bare hop's; ` +
      `gateway ÷ piped hop: ${(m('gatewayCpu') / m('pipedHopCpu')).toFixed(2)}`,
  );
  console.log(
    `info: the minimal gateway (bench/minimal-gateway.ts: key check, text-only translation, SigV4; no usage, limits, metrics or logs) ` +
      `CPU/request at c=128: ${fmt(m('minimalGatewayCpu'))} µs, ${(m('minimalGatewayCpu') / m('hopCpu')).toFixed(2)}× the bare hop's; ` +
      `gateway ÷ minimal gateway: ${(m('gatewayCpu') / m('minimalGatewayCpu')).toFixed(2)}; ` +
      `its added p50 at c=1: ${m('minimalAddedP50').toFixed(3)} ms, ${(m('minimalAddedP50') / m('hopAddedP50')).toFixed(2)}× the bare hop's ` +
      `(gateway ÷ minimal gateway: ${(m('gatewayAddedP50') / m('minimalAddedP50')).toFixed(2)})`,
  );
  console.log(
    `memory: gateway RSS ${afterLoad.gateway.rss.toFixed(0)} MB after the load, ${end.gateway.rss.toFixed(0)} MB at the end (peak ${end.gateway.peak.toFixed(0)} MB); ` +
      `hop ${afterLoad.hop.rss.toFixed(0)} / ${end.hop.rss.toFixed(0)} MB (peak ${end.hop.peak.toFixed(0)} MB)`,
  );

  const out = join(root, 'bench/results/latest.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, quick, rounds, rows, slow, pool, afterLoad, end, gatewayFlags: opts['gateway-flags'] }, null, 2)}\n`,
  );
  console.log(`written ${out}`);
  await agent.close();
  rmSync(home, { recursive: true, force: true });
}

/**
 * Info row: the gateway's CPU per request for Claude on the `messages` path (Bedrock's Anthropic
 * Messages API: plain SSE passed through, no eventstream decode), non-stream and stream, at c=32 like the
 * invoke path's rows, so the two read side by side.
 */
async function claudeMessagesPathCpu(
  pid: number,
  gatewayCall: (stream: boolean, model?: string) => () => Promise<unknown>,
): Promise<Record<string, number>> {
  return {
    gatewayCpuClaudeMessages: (await load(pid, 32, WINDOW_MS / 2, gatewayCall(false, CLAUDE_MESSAGES)))
      .cpuPerRequest,
    gatewayCpuClaudeMessagesStream: (await load(pid, 32, WINDOW_MS / 2, gatewayCall(true, CLAUDE_MESSAGES)))
      .cpuPerRequest,
  };
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(stopAll);

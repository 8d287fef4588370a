/**
 * A/B of the streaming path: two gateways (`--a` and `--b`, each a checkout's bin/abproxy.js) on one
 * emulator, measured in turns in the same run, so the machine's noise hits both alike.
 *   node bench/ab-stream.ts --a /work/main/bin/abproxy.js --b bin/abproxy.js [--rounds 3] [--slow 2000]
 * Per round: time to first content_block_delta at c=1 (interleaved call by call, minus the emulator's
 * own time to its first contentBlockDelta), CPU per streamed request at c=32 for the Converse and the
 * Claude (InvokeModel) paths (the process's schedstat over the window); with --slow N, N concurrent
 * slow streams (40 events, one every 50 ms) per gateway in turn, against one alone.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { gatewayEnv, load, median, root, startEmulator, startProcess, stopAll } from './lib.ts';

const { values: opts } = parseArgs({
  options: {
    a: { type: 'string', default: '/work/main/bin/abproxy.js' },
    b: { type: 'string', default: 'bin/abproxy.js' },
    rounds: { type: 'string', default: '3' },
    n: { type: 'string', default: '300' },
    window: { type: 'string', default: '2000' },
    slow: { type: 'string', default: '0' },
  },
});
const ROUNDS = Number(opts.rounds);
const N = Number(opts.n);
const WINDOW = Number(opts.window);
const SLOW = Number(opts.slow);
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-5';

async function main() {
  const emulatorUrl = await startEmulator();
  const gateway = (bin: string) =>
    startProcess(
      [resolve(root, bin), 'serve', '--port', '0', '--plain'],
      gatewayEnv(emulatorUrl, mkdtempSync(join(tmpdir(), 'abproxy-ab-'))),
      /(http:\/\/\S+)/,
    );
  const gws = { a: await gateway(opts.a), b: await gateway(opts.b) };
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: SLOW + 256 });
  const control = async (path: string, body: unknown) => {
    const res = await request(`${emulatorUrl}/__emulator/${path}`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify(body),
    });
    await res.body.text();
  };
  const call = async (url: string, headers: Record<string, string>, body: string, marker: string) => {
    const started = performance.now();
    const res = await request(url, { method: 'POST', dispatcher: agent, headers, body });
    let first = Number.NaN;
    let tail = '';
    for await (const chunk of res.body) {
      if (Number.isNaN(first)) {
        tail = (tail + chunk.toString('latin1')).slice(-4096);
        if (tail.includes(marker)) first = performance.now() - started;
      }
    }
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${tail}`);
    return first;
  };
  const emulatorStream = () =>
    call(
      `${emulatorUrl}/model/${encodeURIComponent(MODEL)}/converse-stream`,
      { 'content-type': 'application/json', authorization: 'Bearer x' },
      JSON.stringify({
        system: [{ text: 'You are a terse assistant.' }],
        messages: [{ role: 'user', content: [{ text: 'Say hello in five words.' }] }],
        inferenceConfig: { maxTokens: 256 },
      }),
      'contentBlockDelta',
    );
  const viaGateway = (url: string, model: string) => () =>
    call(
      `${url}/v1/messages`,
      {
        'content-type': 'application/json',
        'x-api-key': 'bench-master-key',
        'anthropic-version': '2023-06-01',
      },
      JSON.stringify({
        model,
        max_tokens: 256,
        stream: true,
        system: 'You are a terse assistant.',
        messages: [{ role: 'user', content: 'Say hello in five words.' }],
      }),
      'content_block_delta',
    );
  const paths = {
    a: { converse: viaGateway(gws.a.match[1]!, MODEL), claude: viaGateway(gws.a.match[1]!, CLAUDE) },
    b: { converse: viaGateway(gws.b.match[1]!, MODEL), claude: viaGateway(gws.b.match[1]!, CLAUDE) },
  };
  for (let i = 0; i < 300; i++) {
    await Promise.all([emulatorStream(), ...Object.values(paths).flatMap((p) => [p.converse(), p.claude()])]);
  }
  const rows: Record<string, number>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await control('reset', {});
    const ttfc: Record<string, number[]> = { emulator: [], a: [], b: [], aClaude: [], bClaude: [] };
    for (let i = 0; i < N; i++) {
      ttfc.emulator!.push(await emulatorStream());
      ttfc.a!.push(await paths.a.converse());
      ttfc.b!.push(await paths.b.converse());
      ttfc.aClaude!.push(await paths.a.claude());
      ttfc.bClaude!.push(await paths.b.claude());
    }
    const e = median(ttfc.emulator!);
    const row: Record<string, number> = {
      aTtfc: median(ttfc.a!) - e,
      bTtfc: median(ttfc.b!) - e,
      aClaudeTtfc: median(ttfc.aClaude!) - e,
      bClaudeTtfc: median(ttfc.bClaude!) - e,
    };
    const order = r % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    for (const who of order)
      row[`${who}CpuConverse`] = (await load(gws[who].pid, 32, WINDOW, paths[who].converse)).cpuPerRequest;
    for (const who of order)
      row[`${who}CpuClaude`] = (await load(gws[who].pid, 32, WINDOW, paths[who].claude)).cpuPerRequest;
    rows.push(row);
    console.log(JSON.stringify(row, (_, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));
  }
  const m = (k: string) => median(rows.map((row) => row[k]!));
  console.log(`A = ${opts.a}\nB = ${opts.b}\nmedians over ${ROUNDS} rounds:`);
  for (const k of ['Ttfc', 'ClaudeTtfc', 'CpuConverse', 'CpuClaude']) {
    console.log(
      `  ${k.padEnd(12)} A ${m(`a${k}`).toFixed(3)}  B ${m(`b${k}`).toFixed(3)}  B/A ${(m(`b${k}`) / m(`a${k}`)).toFixed(2)}`,
    );
  }
  if (SLOW > 0) {
    const turn = { text: 'abcd'.repeat(36), chunkSize: 4, chunkDelayMs: 50 };
    for (const who of ['a', 'b', 'a', 'b'] as const) {
      const run = async (n: number) => {
        await control('reset', {});
        await control(
          'script',
          Array.from({ length: n }, () => turn),
        );
        const started = performance.now();
        const results = await Promise.allSettled(Array.from({ length: n }, () => paths[who].converse()));
        return {
          ms: performance.now() - started,
          failed: results.filter((x) => x.status === 'rejected').length,
        };
      };
      const one = await run(1);
      const many = await run(SLOW);
      console.log(
        `slow ${who}: one ${one.ms.toFixed(0)} ms, ${SLOW} ${many.ms.toFixed(0)} ms (${(many.ms / one.ms).toFixed(2)}×), failed ${many.failed}`,
      );
    }
  }
}

try {
  await main();
} finally {
  stopAll();
}
process.exit(0);

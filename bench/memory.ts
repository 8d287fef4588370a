import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import {
  cpuMicros,
  gatewayEnv,
  memoryOf,
  root,
  startEmulator,
  startHop,
  startProcess,
  stopAll,
} from './lib.ts';

const { values: opts } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true, default: [] },
    streams: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '4' },
  },
});
const STREAMS = Number(opts.streams);
const WINDOW_MS = Number(opts.seconds) * 1000;
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';

interface Target {
  name: string;
  pid: number;
  url: string;
  hop: boolean;
}

const fmtMem = (m: ReturnType<typeof memoryOf>) =>
  `${m.rss.toFixed(0)} (${m.anon.toFixed(0)}+${m.file.toFixed(0)})`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const emulatorUrl = await startEmulator();
  const hop = await startHop(emulatorUrl);
  const targets: Target[] = [{ name: 'hop', pid: hop.pid, url: hop.url, hop: true }];
  const specs =
    opts.variant.length > 0
      ? opts.variant
      : ['this=||', ...(root !== '/work/main' ? ['main=||/work/main/bin/abproxy.js'] : [])];
  const homes: string[] = [];
  for (const spec of specs) {
    const [name, rest] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)];
    const [envText = '', flagText = '', bin = join(root, 'bin/abproxy.js')] = rest.split('|');
    const extraEnv = Object.fromEntries(
      envText
        .split(',')
        .filter(Boolean)
        .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    const home = mkdtempSync(join(tmpdir(), 'abproxy-memory-'));
    homes.push(home);
    const gateway = await startProcess(
      [
        ...flagText.split(' ').filter(Boolean),
        bin || join(root, 'bin/abproxy.js'),
        'serve',
        '--port',
        '0',
        '--plain',
      ],
      gatewayEnv(emulatorUrl, home, extraEnv),
      /(http:\/\/\S+)/,
    );
    targets.push({ name, pid: gateway.pid, url: gateway.match[1]!, hop: false });
  }
  await sleep(1500);
  const idle = new Map(targets.map((t) => [t.name, memoryOf(t.pid)]));

  const agent = new Agent({ keepAliveTimeout: 30_000, connections: STREAMS + 256 });
  const control = async (path: string, body: unknown) => {
    const res = await request(`${emulatorUrl}/__emulator/${path}`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify(body),
    });
    await res.body.text();
  };
  const converseBody = JSON.stringify({
    system: [{ text: 'You are a terse assistant.' }],
    messages: [{ role: 'user', content: [{ text: 'Say hello in five words.' }] }],
    inferenceConfig: { maxTokens: 256 },
  });
  const anthropicBody = (stream: boolean) =>
    JSON.stringify({
      model: MODEL,
      max_tokens: 256,
      stream,
      system: 'You are a terse assistant.',
      messages: [{ role: 'user', content: 'Say hello in five words.' }],
    });
  const call = async (t: Target, stream: boolean) => {
    const res = t.hop
      ? await request(
          `${t.url}/model/${encodeURIComponent(MODEL)}/${stream ? 'converse-stream' : 'converse'}`,
          {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', authorization: 'Bearer bench-token' },
            body: converseBody,
          },
        )
      : await request(`${t.url}/v1/messages`, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json',
            'x-api-key': 'bench-master-key',
            'anthropic-version': '2023-06-01',
          },
          body: anthropicBody(stream),
        });
    for await (const _ of res.body) {
      // read it all
    }
    if (res.statusCode !== 200) throw new Error(`${t.name}: ${res.statusCode}`);
  };

  // Warm-up (JIT, pools, catalogues), then c=128 non-stream in turns.
  for (let i = 0; i < 200; i++) await Promise.all(targets.flatMap((t) => [call(t, false), call(t, true)]));
  const cpu = new Map<string, number>();
  for (const t of targets) {
    let done = 0;
    const before = cpuMicros(t.pid);
    const until = performance.now() + WINDOW_MS;
    await Promise.all(
      Array.from({ length: 128 }, async () => {
        while (performance.now() < until) {
          await call(t, false);
          done++;
        }
      }),
    );
    cpu.set(t.name, (cpuMicros(t.pid) - before) / done);
  }
  await sleep(1000);
  const afterLoad = new Map(targets.map((t) => [t.name, memoryOf(t.pid)]));

  const turn = { text: 'abcd'.repeat(36), chunkSize: 4, chunkDelayMs: 50 };
  const slow = new Map<string, { ms: number; failed: number; cpu: number }>();
  for (const t of targets) {
    await control('reset', {});
    await control(
      'script',
      Array.from({ length: STREAMS }, () => turn),
    );
    const before = cpuMicros(t.pid);
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: STREAMS }, () => call(t, true)));
    slow.set(t.name, {
      ms: performance.now() - started,
      failed: results.filter((r) => r.status === 'rejected').length,
      cpu: (cpuMicros(t.pid) - before) / STREAMS,
    });
  }
  await control('reset', {});
  const right = new Map(targets.map((t) => [t.name, memoryOf(t.pid)]));
  await sleep(2000);
  const after2 = new Map(targets.map((t) => [t.name, memoryOf(t.pid)]));
  await sleep(4000);
  const after6 = new Map(targets.map((t) => [t.name, memoryOf(t.pid)]));
  if (process.env.MEMORY_SIGNAL) {
    // For a preload that prints its figures on a signal (e.g. -r memstat.cjs in a variant's flags).
    for (const t of targets) if (!t.hop) process.kill(t.pid, process.env.MEMORY_SIGNAL as NodeJS.Signals);
    await sleep(3000);
  }

  console.log(
    `\nmemory A/B — ${new Date().toISOString()}; MB as rss (anon+file); c=128 ${WINDOW_MS} ms; ${STREAMS} slow streams`,
  );
  console.log(
    '| target | idle | after c=128 | CPU/req c=128 | streams ms (failed) | CPU/stream | right after | +2 s | +6 s | peak |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const t of targets) {
    const s = slow.get(t.name)!;
    console.log(
      `| ${t.name} | ${fmtMem(idle.get(t.name)!)} | ${fmtMem(afterLoad.get(t.name)!)} | ${cpu.get(t.name)!.toFixed(0)} µs | ${s.ms.toFixed(0)} (${s.failed}) | ${s.cpu.toFixed(0)} µs | ${fmtMem(right.get(t.name)!)} | ${fmtMem(after2.get(t.name)!)} | ${fmtMem(after6.get(t.name)!)} | ${after6.get(t.name)!.peak.toFixed(0)} |`,
    );
  }
  await agent.close();
  for (const home of homes) rmSync(home, { recursive: true, force: true });
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
  });

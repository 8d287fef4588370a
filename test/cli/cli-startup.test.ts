/**
 * Start-up stays fast because command modules load the AWS SDK, pino, ink and the store only inside
 * their actions. This checks what importing the command modules pulls in (timings are in `npm run bench`,
 * bench/startup.ts, not in a timed test).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildJs } from '../../scripts/build-js.ts';
import { cliEnv, root, tempHome } from './cli-helpers.ts';

const HEAVY =
  /node_modules\/(@aws-sdk|@smithy|@opentelemetry|pino|ink|react|better-sqlite3|conf|prom-client|linkedom|@mozilla\/readability|turndown)\//;

const HOOK = `import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url); return r; } });
process.on('exit', () => process.stdout.write('MODULES ' + JSON.stringify([...seen, ...process.moduleLoadList.map((m) => 'builtin:' + m.split(' ').pop())]) + '\\n'));`;

const packagesIn = (urls: string[]) => [
  ...new Set(
    urls
      .filter((u) => /node_modules\//.test(u))
      .map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)![1]!),
  ),
];

/**
 * Every module URL a real `abproxy serve --plain` (solo mode, from `entry`) resolved, from start until
 * it listens and is stopped with SIGTERM, and Node's own modules it loaded (`builtin:<id>`).
 */
async function modulesOfServe(entry: string): Promise<string[]> {
  const home = tempHome();
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(entry).href)});
await main(['node', 'abproxy', 'serve', '--port', '0', '--plain']);`;
  const child = spawn(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(HOOK)}`, '--input-type=module', '-e', script],
    { env: cliEnv(home, 'http://127.0.0.1:9', { ABPROXY_PREBUILT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stopped = false;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    // One SIGTERM (a second one would end the drain at once), once serve listens for it.
    if (!stopped && out.includes('listening on')) {
      stopped = true;
      setTimeout(() => child.kill('SIGTERM'), 300);
    }
  });
  await exited;
  rmSync(home, { recursive: true, force: true });
  const line = out.split('\n').find((l) => l.startsWith('MODULES '));
  if (!line) throw new Error(`serve gave no module list: ${err} ${out}`);
  return JSON.parse(line.slice('MODULES '.length)) as string[];
}

/** Packages loaded by importing `modules` (URLs recorded by a module.registerHooks resolve hook). */
function packagesLoadedBy(modules: string[]): string[] {
  const hook = `import { registerHooks } from 'node:module';
const seen = new Set();
registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url); return r; } });
process.on('exit', () => process.stdout.write('MODULES ' + JSON.stringify([...seen]) + '\\n'));`;
  const imports = modules.map((m) => `await import(${JSON.stringify(join(root, m))});`).join('\n');
  const run = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(hook)}`, '--input-type=module', '-e', imports],
    { encoding: 'utf8' },
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('MODULES '));
  if (!line) throw new Error(`no module list: ${run.stderr}`);
  const urls = JSON.parse(line.slice('MODULES '.length)) as string[];
  return [
    ...new Set(
      urls.filter((u) => HEAVY.test(u)).map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)![1]!),
    ),
  ];
}

describe('start-up', () => {
  it('loading the serve, claude, models, config, doctor and completion commands loads no heavy package', () => {
    const commands = ['serve', 'claude', 'models', 'config', 'doctor', 'completion', 'gateway-state'];
    expect(packagesLoadedBy(commands.map((c) => `src/cli/${c}.ts`))).toEqual([]);
  });

  it('the gateway loads no OpenTelemetry package until tracing is switched on', () => {
    // prom-client brings @opentelemetry/api (for exemplars); the SDK and the exporters are ours to load.
    const loaded = packagesLoadedBy(['src/server/http/server.ts']);
    expect(loaded.filter((p) => p.startsWith('@opentelemetry/') && p !== '@opentelemetry/api')).toEqual([]);
    expect(packagesLoadedBy(['src/telemetry/otel.ts'])).toContain('@opentelemetry/sdk-trace');
  });

  it('the gateway loads the HTML-to-Markdown libraries only when web fetch reads a page', () => {
    const loaded = packagesLoadedBy(['src/server/http/server.ts']);
    for (const lib of ['linkedom', '@mozilla/readability', 'turndown']) expect(loaded).not.toContain(lib);
    expect(packagesLoadedBy(['src/tools/web/html-to-markdown.ts'])).toEqual(
      expect.arrayContaining(['linkedom', '@mozilla/readability', 'turndown']),
    );
  });

  it('the gateway loads the Bedrock runtime SDK client only once it runs (after listening), not with its modules', () => {
    const loaded = packagesLoadedBy(['src/server/http/server.ts']);
    expect(loaded).not.toContain('@aws-sdk/client-bedrock-runtime');
    // The check can fail: the gateway's modules do load heavy packages of their own.
    expect(loaded).toContain('prom-client');
  });

  it('serve from the prebuilt JavaScript (npm run build:js) strips no TypeScript and loads only what solo mode uses', async () => {
    // Inside the checkout, so its node_modules resolve the packages (.abproxy-test-* is ignored by git).
    const scratch = mkdtempSync(join(root, '.abproxy-test-buildjs-'));
    try {
      const outdir = join(scratch, 'js');
      mkdirSync(outdir, { recursive: true });
      await buildJs(outdir);
      // No file V8 would have to hold as a two-byte string (a `→` left in a comment doubles its source).
      const twoByte = readdirSync(outdir).filter(
        (f) => f.endsWith('.js') && /[\u0100-\uffff]/.test(readFileSync(join(outdir, f), 'utf8')),
      );
      expect(twoByte).toEqual([]);
      const urls = await modulesOfServe(join(outdir, 'main.js'));
      expect(urls.some((u) => u.endsWith('.ts'))).toBe(false);
      // The build's chunks ran (the server's modules are imported lazily from them).
      expect(urls.filter((u) => u.startsWith(pathToFileURL(outdir).href)).length).toBeGreaterThan(5);
      const loaded = packagesIn(urls);
      expect(loaded).toContain('@aws-sdk/client-bedrock-runtime');
      // The transport takes undici's Pool from its files (src/upstream/undici-core.ts); its index (~80 more
      // modules) and Node's bundled undici (loaded by an ES import of node:http) cost ~25 ms each.
      expect(loaded).toContain('undici');
      expect(urls.filter((u) => /node_modules\/undici\/index\.js$/.test(u))).toEqual([]);
      expect(urls).toContain('builtin:http');
      expect(urls.filter((u) => u.startsWith('builtin:internal/deps/undici'))).toEqual([]);
      for (const unused of [
        '@aws-sdk/client-dynamodb',
        '@aws-sdk/lib-dynamodb',
        'ink',
        'react',
        'linkedom',
        '@mozilla/readability',
        'turndown',
        '@opentelemetry/sdk-trace',
        'esbuild',
        // Sign-in's OIDC client (and jose) load with the first sign-in.
        'openid-client',
        'jose',
      ])
        expect(loaded).not.toContain(unused);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});

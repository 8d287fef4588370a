/**
 * Start-up stays fast because command modules load the AWS SDK, pino, ink and the store only inside
 * their actions. This checks what importing the command modules pulls in (timings are in `npm run bench`,
 * bench/startup.ts, not in a timed test).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './cli-helpers.ts';

const HEAVY =
  /node_modules\/(@aws-sdk|@smithy|@opentelemetry|pino|ink|react|better-sqlite3|conf|prom-client|linkedom|@mozilla\/readability|turndown)\//;

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

  it('the check can fail: the gateway itself does load them', () => {
    expect(packagesLoadedBy(['src/server/http/server.ts'])).toContain('@aws-sdk/client-bedrock-runtime');
  });
});

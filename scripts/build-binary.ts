/**
 * `npm run build:binary`: one self-contained executable, dist/abproxy (this platform; Linux x64 here),
 * with Node's single-executable-application support and nothing downloaded:
 *   1. esbuild bundles the CLI into one CommonJS file (a SEA's main script is CommonJS in Node 24);
 *      src/ui/load.ts and better-sqlite3's binding loader are swapped for SEA-aware versions.
 *   2. esbuild bundles the HTML reader's worker (src/tools/web/html-worker.ts) as one CommonJS file, and
 *      src/tools/web/html-worker-entry.ts is swapped for a reader of its embedded copy.
 *   3. esbuild bundles the ink views (ink, react, yoga) as one ESM file: they use top-level await,
 *      which CommonJS cannot hold; the executable imports it from its asset when it draws on a TTY.
 *   4. The admin page is built (scripts/build-admin.ts); src/admin/assets.ts is swapped for a reader of
 *      the embedded copies.
 *   5. `node --experimental-sea-config` makes the blob (main + assets: views, HTML worker, admin page,
 *      better-sqlite3).
 *   6. A copy of the running Node binary gets the blob injected with postject.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { ADMIN_FILES } from '../build/sea/admin-assets.ts';
import { buildAdmin } from './build-admin.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
const work = join(out, 'sea');
const require = createRequire(import.meta.url);
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const log = (text: string) => process.stderr.write(`build:binary: ${text}\n`);

/** Swaps modules for their single-executable versions. */
function seaSwaps(): Plugin {
  const swaps: [RegExp, string][] = [
    [/[\\/]src[\\/]ui[\\/]load\.ts$/, join(root, 'build/sea/load-views.ts')],
    [/[\\/]better-sqlite3[\\/]lib[\\/]binding\.js$/, join(root, 'build/sea/sqlite-binding.ts')],
    [/[\\/]src[\\/]admin[\\/]assets\.ts$/, join(root, 'build/sea/admin-assets.ts')],
    [/[\\/]src[\\/]tools[\\/]web[\\/]html-worker-entry\.ts$/, join(root, 'build/sea/html-worker-entry.ts')],
  ];
  return {
    name: 'sea-swaps',
    setup(b) {
      b.onResolve({ filter: /(load\.ts|assets\.ts|html-worker-entry\.ts|binding(\.js)?)$/ }, async (args) => {
        if (args.pluginData === 'sea-swaps') return undefined;
        const resolved = await b.resolve(args.path, {
          resolveDir: args.resolveDir,
          kind: args.kind,
          importer: args.importer,
          pluginData: 'sea-swaps',
        });
        const swap = swaps.find(([pattern]) => pattern.test(resolved.path));
        return swap ? { path: swap[1] } : undefined;
      });
    },
  };
}

/** The addon better-sqlite3 would load here: a local build if one was made, else its N-API prebuild. */
function sqliteAddon(): string {
  const pkg = dirname(require.resolve('better-sqlite3/package.json'));
  const candidates = [
    join(pkg, 'build/Release/better_sqlite3.node'),
    join(pkg, `prebuilds/${process.platform}-${process.arch}.node`),
  ];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`no better-sqlite3 addon for ${process.platform}-${process.arch} in ${pkg}`);
  return found;
}

/** ink's React devtools (an optional peer, used only with DEV=true) become an empty module. */
function noDevtools(): Plugin {
  return {
    name: 'no-devtools',
    setup(b) {
      b.onResolve({ filter: /^react-devtools-core$/ }, () => ({
        path: 'react-devtools-core',
        namespace: 'stub',
      }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({
        contents: 'export default { initialize() {}, connectToDevTools() {} };',
        loader: 'js',
      }));
    },
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const common = {
    bundle: true,
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    legalComments: 'none',
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
    define: { 'process.env.NODE_ENV': '"production"' },
  } as const;

  log('bundling the CLI');
  await build({
    ...common,
    entryPoints: [join(root, 'build/sea/main.ts')],
    outfile: join(work, 'abproxy.cjs'),
    format: 'cjs',
    plugins: [seaSwaps()],
  });

  log('bundling the HTML reader (a worker thread)');
  await build({
    ...common,
    entryPoints: [join(root, 'src/tools/web/html-worker.ts')],
    outfile: join(work, 'html-worker.cjs'),
    format: 'cjs',
  });

  log('bundling the ink views');
  await build({
    ...common,
    entryPoints: [join(root, 'src/ui/views.ts')],
    outfile: join(work, 'ui.mjs'),
    format: 'esm',
    plugins: [noDevtools()],
    // Bundled CommonJS dependencies call require() for built-ins; give the ESM file a real one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(process.execPath);",
    },
  });

  log('building the admin page');
  const adminDir = join(work, 'admin');
  await buildAdmin(adminDir);

  const config = {
    main: join(work, 'abproxy.cjs'),
    output: join(work, 'abproxy.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: {
      'ui.mjs': join(work, 'ui.mjs'),
      'html-worker.cjs': join(work, 'html-worker.cjs'),
      'better_sqlite3.node': sqliteAddon(),
      ...Object.fromEntries(ADMIN_FILES.map((name) => [`admin/${name}`, join(adminDir, name)])),
    },
  };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
  log('making the blob');
  execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });

  const binary = join(out, process.platform === 'win32' ? 'abproxy.exe' : 'abproxy');
  rmSync(binary, { force: true });
  copyFileSync(process.execPath, binary);
  chmodSync(binary, 0o755);
  log(`injecting into a copy of ${process.execPath} (node ${process.version})`);
  const postject = join(dirname(require.resolve('postject/package.json')), 'dist/cli.js');
  const args = [postject, binary, 'NODE_SEA_BLOB', config.output, '--sentinel-fuse', SENTINEL];
  if (process.platform === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });

  const mb = (statSync(binary).size / 1024 / 1024).toFixed(0);
  log(
    `${relative(process.cwd(), binary)} (${mb} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

await main();

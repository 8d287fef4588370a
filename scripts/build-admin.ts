/**
 * `npm run build:admin`: the admin page (admin-ui/, Preact + uPlot) bundled by esbuild into static files
 * in dist/admin/ (index.html, app.js, app.css) that `abproxy serve` serves at /admin and the single
 * executable embeds. Everything is bundled: the page loads nothing from other hosts.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const ADMIN_OUT = join(root, 'dist/admin');

export async function buildAdmin(out: string = ADMIN_OUT): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const ui = join(root, 'admin-ui');
  await build({
    entryPoints: { app: join(ui, 'src/main.tsx') },
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  await build({
    entryPoints: { app: join(ui, 'src/styles.css') },
    outdir: out,
    bundle: true,
    minify: true,
    logLevel: 'warning',
  });
  copyFileSync(join(ui, 'index.html'), join(out, 'index.html'));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = performance.now();
  await buildAdmin();
  process.stderr.write(`build:admin: dist/admin in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

/**
 * `npm run build:js`: the CLI's own sources as plain JavaScript in dist/js/ (esbuild: the CLI's ESM entry
 * and the HTML reader's worker entry, plus chunks, so what the CLI imports lazily stays lazy; packages
 * stay in node_modules), and
 * dist/js/manifest.json naming every source file it was built from (size, mtime, SHA-256).
 *
 * Why: Node strips TypeScript types with amaro, a WebAssembly module whose linear memory never
 * shrinks. With the compile cache warm it is not loaded at all; on a cold start (a new container, a
 * fresh install, any edited file) it costs ~12 MB of anonymous memory plus ~6 MB of code for the life of
 * the process. bin/abproxy.js runs dist/js/main.js instead of src/cli/main.ts when the manifest still
 * matches the sources (bin/prebuilt.js), so an edited checkout never runs stale code.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Two levels below the root, like src/<dir>/: `new URL('../../…', import.meta.url)` resolves the same. */
export const JS_DIR = join(root, 'dist/js');

/** A UTF-16 code unit beyond Latin-1: V8 then stores the whole string with two bytes a character. */
const TWO_BYTE = /[\u0100-\uffff]/g;

export async function buildJs(outdir = JS_DIR): Promise<{ files: number; inputs: number }> {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const result = await build({
    // The HTML reader runs in a worker thread of its own (src/tools/web/html-worker-entry.ts finds it).
    entryPoints: {
      main: join(root, 'src/cli/main.ts'),
      'html-worker': join(root, 'src/tools/web/html-worker.ts'),
    },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    // Stack traces name the source files.
    sourcemap: 'linked',
    sourcesContent: false,
  });
  // esbuild writes code as ASCII (its default charset) but keeps some comments as they are: one `→` in
  // a comment makes V8 hold that whole file's source as a two-byte string (the server chunk: ~350 KB more
  // heap for the life of `serve`). Escaped, the text is one byte a character; a `\uXXXX` means the same
  // as the character in any string, template or regular expression, should one be there.
  for (const output of Object.keys(result.metafile.outputs)) {
    if (!output.endsWith('.js')) continue;
    const file = join(process.cwd(), output);
    const text = readFileSync(file, 'utf8');
    const escaped = text.replace(TWO_BYTE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    if (escaped !== text) writeFileSync(file, escaped);
  }
  const inputs: Record<string, [number, number, string]> = {};
  for (const input of Object.keys(result.metafile.inputs)) {
    const file = join(process.cwd(), input);
    const stat = statSync(file);
    const sha = createHash('sha256').update(readFileSync(file)).digest('hex');
    inputs[relative(root, file)] = [stat.size, stat.mtimeMs, sha];
  }
  writeFileSync(join(outdir, 'manifest.json'), `${JSON.stringify({ node: process.version, inputs })}\n`);
  return { files: Object.keys(result.metafile.outputs).length, inputs: Object.keys(inputs).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { files, inputs } = await buildJs();
  process.stderr.write(
    `build:js: ${relative(process.cwd(), JS_DIR)}/ (${files} files from ${inputs} sources) in ${(performance.now() - started).toFixed(0)} ms\n`,
  );
}

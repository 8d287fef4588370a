/**
 * bin/prebuilt.js: the launcher runs dist/js/ only while its manifest matches every source it was built
 * from; an edited, removed or resized file sends it back to the TypeScript sources.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshPrebuilt } from '../../bin/prebuilt.js';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A checkout with two sources and a dist/js/manifest.json that matches them. */
function checkout() {
  const root = mkdtempSync(join(tmpdir(), 'abproxy-prebuilt-'));
  roots.push(root);
  mkdirSync(join(root, 'src/cli'), { recursive: true });
  mkdirSync(join(root, 'dist/js'), { recursive: true });
  const files = { 'src/cli/main.ts': 'export const a: number = 1;\n', 'package.json': '{"name":"x"}\n' };
  const inputs: Record<string, [number, number, string]> = {};
  for (const [file, text] of Object.entries(files)) {
    writeFileSync(join(root, file), text);
    const sha = createHash('sha256').update(text).digest('hex');
    inputs[file] = [Buffer.byteLength(text), 1_700_000_000_000, sha];
    utimesSync(join(root, file), 1_700_000_000, 1_700_000_000);
  }
  writeFileSync(join(root, 'dist/js/main.js'), 'export const a = 1;\n');
  writeFileSync(join(root, 'dist/js/manifest.json'), JSON.stringify({ inputs }));
  return root;
}

describe('freshPrebuilt', () => {
  it('gives dist/js/main.js while the sources are the ones it was built from', () => {
    const root = checkout();
    expect(freshPrebuilt(root, {})).toBe(join(root, 'dist/js/main.js'));
  });

  it('still uses it when only the mtimes changed (a copy or an image), the content being the same', () => {
    const root = checkout();
    utimesSync(join(root, 'src/cli/main.ts'), new Date(), new Date());
    expect(freshPrebuilt(root, {})).toBe(join(root, 'dist/js/main.js'));
  });

  it('falls back when a source was edited, even to the same size', () => {
    const root = checkout();
    writeFileSync(join(root, 'src/cli/main.ts'), 'export const a: number = 2;\n');
    expect(freshPrebuilt(root, {})).toBeUndefined();
  });

  it('falls back when a source grew, was removed, or the manifest is missing or broken', () => {
    let root = checkout();
    writeFileSync(join(root, 'package.json'), '{"name":"xy"}\n');
    expect(freshPrebuilt(root, {})).toBeUndefined();
    root = checkout();
    rmSync(join(root, 'src/cli/main.ts'));
    expect(freshPrebuilt(root, {})).toBeUndefined();
    root = checkout();
    writeFileSync(join(root, 'dist/js/manifest.json'), '{"inputs":');
    expect(freshPrebuilt(root, {})).toBeUndefined();
    rmSync(join(root, 'dist/js/manifest.json'));
    expect(freshPrebuilt(root, {})).toBeUndefined();
  });

  it('ABPROXY_PREBUILT=0 ignores a fresh build', () => {
    const root = checkout();
    expect(freshPrebuilt(root, { ABPROXY_PREBUILT: '0' })).toBeUndefined();
  });
});

/**
 * Replaces better-sqlite3's lib/binding.js in the single executable: the default addon is the one
 * embedded as an asset (a SEA's require() loads built-in modules only, so it is dlopen'ed by path).
 * An explicit `nativeBinding` option still works as in the package.
 */
import { resolve } from 'node:path';
import { assetPath } from './assets.ts';

let defaultAddon: unknown;

function dlopen(file: string): unknown {
  const module = { exports: {} };
  process.dlopen(module, file);
  return module.exports;
}

export function getBinding(nativeBinding?: unknown): unknown {
  if (typeof nativeBinding === 'string') return dlopen(resolve(nativeBinding).replace(/(\.node)?$/, '.node'));
  if (typeof nativeBinding === 'object' && nativeBinding !== null) return nativeBinding;
  defaultAddon ??= dlopen(assetPath('better_sqlite3.node', 'better_sqlite3.node'));
  return defaultAddon;
}

export function getPrebuildPath(): string | null {
  return null;
}

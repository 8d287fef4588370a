/**
 * Where html-worker.ts runs from: beside this module, as TypeScript (the sources) or as JavaScript
 * (dist/js, where scripts/build-js.ts makes it an entry of its own). The single executable swaps this
 * module for build/sea/html-worker-entry.ts, which reads its embedded copy.
 */
export function htmlWorkerEntry(): URL | string {
  const file = import.meta.url.endsWith('.ts') ? './html-worker.ts' : './html-worker.js';
  return new URL(file, import.meta.url);
}

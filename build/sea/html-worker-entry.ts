/**
 * Replaces src/tools/web/html-worker-entry.ts in the single executable: the HTML reader's worker is the
 * embedded CommonJS bundle (scripts/build-binary.ts), written to disk once like the other assets.
 */
import { assetPath } from './assets.ts';

export function htmlWorkerEntry(): URL | string {
  return assetPath('html-worker.cjs', 'html-worker.cjs');
}

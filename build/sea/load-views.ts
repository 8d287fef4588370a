/** Replaces src/ui/load.ts in the single executable: the ink views come from the embedded ESM bundle. */
import { pathToFileURL } from 'node:url';
import type { Views } from '../../src/ui/load.ts';
import { loadHonouringNoColor } from '../../src/ui/no-color.ts';
import { assetPath } from './assets.ts';

export type { Views };

export function loadViews(): Promise<Views> {
  return loadHonouringNoColor(() => import(pathToFileURL(assetPath('ui.mjs', 'ui.mjs')).href));
}

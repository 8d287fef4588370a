/**
 * The admin page's built files (`npm run build:admin` writes them to dist/admin/). Read once, on the
 * first request that finds them; the single executable swaps this module for one reading its SEA assets
 * (build/sea/admin-assets.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AdminAsset, type AdminAssets, contentType, isAdminAsset } from './assets-types.ts';

export type { AdminAsset, AdminAssets };

export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/admin/', import.meta.url));

/** The files by name, or undefined when the page was not built (no index.html). */
export function loadAdminAssets(dir: string = DEFAULT_ASSETS_DIR): AdminAssets | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, AdminAsset>();
  for (const name of readdirSync(dir)) {
    if (isAdminAsset(name))
      assets.set(name, { body: readFileSync(join(dir, name)), type: contentType(name) });
  }
  return assets;
}

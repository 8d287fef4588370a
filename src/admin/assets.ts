/**
 * The admin page's built files (`npm run build:admin` writes them to dist/admin/). Read once, on the
 * first request that finds them; the single executable swaps this module for one reading its SEA assets
 * (build/sea/admin-assets.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AdminAsset {
  body: Buffer;
  type: string;
}

export type AdminAssets = ReadonlyMap<string, AdminAsset>;

export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('../../dist/admin/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export function contentType(name: string): string {
  return TYPES[extname(name)] ?? 'application/octet-stream';
}

/** The files by name, or undefined when the page was not built (no index.html). */
export function loadAdminAssets(dir: string = DEFAULT_ASSETS_DIR): AdminAssets | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const assets = new Map<string, AdminAsset>();
  for (const name of readdirSync(dir)) {
    if (extname(name) in TYPES) {
      assets.set(name, { body: readFileSync(join(dir, name)), type: contentType(name) });
    }
  }
  return assets;
}

/** Replaces src/admin/assets.ts in the single executable: the admin page's files are SEA assets. */
import { getAsset } from 'node:sea';
import { type AdminAsset, type AdminAssets, contentType } from '../../src/admin/assets-types.ts';

export type { AdminAsset, AdminAssets };

/** The files scripts/build-admin.ts writes; scripts/build-binary.ts embeds each as `admin/<name>`. */
export const ADMIN_FILES = ['index.html', 'app.js', 'app.css'] as const;

export const DEFAULT_ASSETS_DIR = '';

export function loadAdminAssets(_dir?: string): AdminAssets | undefined {
  const assets = new Map<string, AdminAsset>();
  for (const name of ADMIN_FILES) {
    try {
      assets.set(name, { body: Buffer.from(getAsset(`admin/${name}`)), type: contentType(name) });
    } catch {
      return undefined;
    }
  }
  return assets;
}

/** The admin page's files as the server holds them, and their content types (shared with the SEA loader). */
import { extname } from 'node:path';

export interface AdminAsset {
  body: Buffer;
  type: string;
}

export type AdminAssets = ReadonlyMap<string, AdminAsset>;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export function isAdminAsset(name: string): boolean {
  return extname(name) in TYPES;
}

export function contentType(name: string): string {
  return TYPES[extname(name)] ?? 'application/octet-stream';
}

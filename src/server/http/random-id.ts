import { randomFillSync } from 'node:crypto';

const ID_BYTES = 18;
// One getrandom call per 256 ids instead of one per id (randomBytes also checks the pid each time).
const pool = Buffer.allocUnsafe(ID_BYTES * 256);
let offset = pool.length;

/** `prefix` + 24 random base62-ish characters (18 random bytes, base64url with `-`/`_` as `x`). */
export function randomId(prefix: string): string {
  if (offset + ID_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const text = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return prefix + text.replace(/[-_]/g, 'x');
}

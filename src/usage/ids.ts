import { randomFillSync } from 'node:crypto';

const RANDOM_BYTES = 10;
// One getrandom call per 256 ids instead of one per id (randomBytes also allocates and checks each time).
const pool = Buffer.allocUnsafe(RANDOM_BYTES * 256);
let offset = pool.length;
const bytes = Buffer.alloc(16);

/**
 * UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits. Unique without coordination between
 * instances and sortable by time, which keeps store pages and spool files in arrival order.
 */
export function uuidv7(now = Date.now()): string {
  if (offset + RANDOM_BYTES > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  bytes.writeUIntBE(now, 0, 6);
  pool.copy(bytes, 6, offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

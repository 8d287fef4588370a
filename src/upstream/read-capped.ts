/**
 * A body read whole, but never more than a cap: what answers at an upstream URL (Bedrock, mantle's
 * model list, a search provider) may be broken or hostile, and must not make the gateway hold gigabytes.
 */

/** Every byte of `body`, `max` at the most: past that the body is released and `tooLarge()` is thrown. */
export async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  max: number,
  tooLarge: () => Error,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * Request bodies: bytes are counted as they arrive (Content-Length is not trusted), compressed bodies
 * are inflated with the limit applied to the inflated size (a small gzip can expand enormously), and
 * JSON errors name the position so a client can find its mistake.
 */
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { ApiError } from '../../anthropic/errors.ts';
import type { BodyHold } from './body-budget.ts';
import { ClientLeftError } from './client-abort.ts';
import { letBodyCome } from './expect-continue.ts';
import { hasMoreJsonValues, MAX_JSON_VALUES } from './json-values.ts';

function tooLarge(limit: number): ApiError {
  return new ApiError('request_too_large', `Request exceeds the maximum allowed number of bytes (${limit})`, {
    // The rest of the body is not read, so the connection cannot be reused.
    headers: { connection: 'close' },
  });
}

function decoderFor(encoding: string): Transform | null {
  switch (encoding) {
    case 'identity':
      return null;
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      return zlib.createZstdDecompress();
    default:
      throw new ApiError(
        'unsupported_media_type',
        `Unsupported Content-Encoding '${encoding}'; use gzip, deflate, br or zstd`,
        {
          status: 415,
        },
      );
  }
}

/**
 * The decoder for the request's Content-Encoding. At most one coding: no client compresses twice, and a
 * long `zstd, zstd, …` list would build thousands of decoders for one request.
 */
function decoders(header: string | undefined): Transform[] {
  if (!header) return [];
  const encodings = header
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== '');
  if (encodings.length > 1) {
    throw new ApiError(
      'unsupported_media_type',
      'Only one Content-Encoding is supported per request (gzip, deflate, br or zstd)',
      { status: 415 },
    );
  }
  const decoder = encodings.length === 1 ? decoderFor(encodings[0]!) : null;
  return decoder ? [decoder] : [];
}

/**
 * Node's parser removes `chunked` and leaves any other transfer coding on the bytes: a body sent as
 * `Transfer-Encoding: gzip, chunked` would be read as if it were not compressed. RFC 9112 §6.1 suggests
 * 501, but clients retry a 5xx: a 400, as for any other request this gateway cannot take.
 */
function unsupportedTransferCoding(header: string | undefined): ApiError | undefined {
  if (header === undefined) return undefined;
  const other = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .find((coding) => coding !== 'chunked' && coding !== '');
  if (other === undefined) return undefined;
  return new ApiError(
    'invalid_request_error',
    `Unsupported Transfer-Encoding '${other.slice(0, 40)}': only chunked is (compress with Content-Encoding)`,
    { headers: { connection: 'close' } },
  );
}

/**
 * A refused HTTP/2 body is read and dropped before the refusal is answered, up to this size. Answered
 * while the client still sends many megabytes, the AWS SDK's HTTP/2 client fails its own stream with
 * ENHANCE_YOUR_CALM and never reads the 413; HTTP/1.1 closes the connection instead.
 */
export const MAX_DRAINED_BYTES = 256 * 1024 * 1024;

/** Rejects with `err` once the request's body has all come (read and dropped) or the request closed. */
function drainThen(req: IncomingMessage, err: ApiError): Promise<Buffer> {
  return bodyDrained(req).then(() => Promise.reject(err));
}

/**
 * Resolves once an HTTP/2 request's body has all come (read and dropped, at most MAX_DRAINED_BYTES more)
 * or the request closed; at once for HTTP/1.1 or a body already read. A refusal answered before the body
 * arrived (an unknown key, a budget, a rate limit) would meet the AWS SDK's HTTP/2 client as
 * ENHANCE_YOUR_CALM past ~16 MB unread, never as the refusal.
 */
export function bodyDrained(req: IncomingMessage): Promise<void> {
  if (req.httpVersionMajor !== 2 || req.complete || req.readableEnded || req.destroyed) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let bytes = 0;
    const done = () => {
      req.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_DRAINED_BYTES) done();
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.once('error', done);
    req.resume();
  });
}

/**
 * Reads the whole body, at most `limit` bytes on the wire and after inflation, each byte (after
 * inflation) counted in `hold` when given (the gateway's BodyBudget). Listeners rather than `for await`:
 * leaving an async iterator destroys the request, and with it the socket the 413 must use.
 */
export function readBody(req: IncomingMessage, limit: number, hold?: BodyHold): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    if (req.httpVersionMajor === 2 && declared <= MAX_DRAINED_BYTES) return drainThen(req, tooLarge(limit));
    return Promise.reject(tooLarge(limit));
  }
  const coding = unsupportedTransferCoding(req.headers['transfer-encoding']);
  if (coding) return Promise.reject(coding);
  let chain: Transform[];
  try {
    chain = decoders(req.headers['content-encoding']);
  } catch (err) {
    return Promise.reject(err);
  }
  letBodyCome(req);
  // An HTTP/2 request whose stream the client reset reads as complete (and empty): it left.
  if (resetByClient(req)) return Promise.reject(streamReset());
  if (chain.length === 0 && req.complete) return readBuffered(req, limit, hold);
  return new Promise((resolve, reject) => {
    const output: NodeJS.ReadableStream = chain.reduce<NodeJS.ReadableStream>((s, d) => s.pipe(d), req);
    const chunks: Buffer[] = [];
    let wireBytes = 0;
    let size = 0;
    let settled = false;
    const settle = (err: unknown, body?: Buffer) => {
      if (settled) return;
      settled = true;
      // Every listener goes: they hold this scope (the chunks, the promise and so the body) for as long
      // as the request lives, which for a stream is its whole answer (a 230 kB prompt cost ~470 kB a stream).
      req.off('data', onWire);
      output.off('data', onData);
      output.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      // A decoder may still complain (trailing bytes): heard, ignored, never an uncaught error.
      for (const d of chain) d.off('error', onDecodeError).on('error', ignore);
      if (err === undefined) return resolve(body!);
      for (const d of chain) {
        req.unpipe(d);
        d.destroy();
      }
      // Keep consuming (and discarding) so the socket stays usable for the answer.
      req.resume();
      reject(err);
    };
    const onWire = (chunk: Buffer) => {
      wireBytes += chunk.length;
      if (wireBytes > limit) settle(tooLarge(limit));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return settle(tooLarge(limit));
      const refused = hold?.take(chunk.length);
      if (refused) return settle(refused);
      chunks.push(chunk);
    };
    // HTTP/2: a stream the client resets ends its request as if it were complete.
    const onEnd = () =>
      resetByClient(req) ? settle(streamReset()) : settle(undefined, Buffer.concat(chunks));
    // Node's `aborted` (ECONNRESET) arrives before `close` when the connection drops mid-body.
    const onError = (err: Error) =>
      settle(new ClientLeftError('client left before sending the whole body', { cause: err }));
    const onClose = () => {
      if (!req.complete || resetByClient(req))
        settle(new ClientLeftError('client closed the connection before sending the whole body'));
    };
    const onDecodeError = (err: Error) =>
      settle(
        ApiError.invalid(
          `Could not decode the ${req.headers['content-encoding']} request body: ${err.message}`,
        ),
      );
    if (chain.length > 0) req.on('data', onWire);
    output.on('data', onData);
    output.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    for (const d of chain) d.on('error', onDecodeError);
  });
}

function ignore(): void {}

/**
 * An HTTP/2 request whose stream the client reset: node's compatibility request then reads as complete
 * (and empty), and says `aborted` only a turn later; its stream already holds the reset's code.
 */
function resetByClient(req: IncomingMessage): boolean {
  return req.aborted || ((req as { stream?: { rstCode?: number } }).stream?.rstCode ?? 0) !== 0;
}

const streamReset = () => new ClientLeftError('client reset its stream before sending the whole body');

/**
 * A body the parser already holds whole (a small request arrives with its headers, and the handler
 * runs after the first await): taken from the stream's buffer at once, with no data/end events.
 */
function readBuffered(req: IncomingMessage, limit: number, hold: BodyHold | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (let chunk = req.read() as Buffer | null; chunk !== null; chunk = req.read() as Buffer | null) {
    size += chunk.length;
    if (size > limit) return Promise.reject(tooLarge(limit));
    chunks.push(chunk);
  }
  const refused = hold?.take(size);
  if (refused) return Promise.reject(refused);
  return Promise.resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** 300,000, grouped by hand: toLocaleString would load ICU's number formats into the gateway for good. */
const TOO_MANY_VALUES = String(MAX_JSON_VALUES).replace(/\B(?=(\d{3})+$)/g, ',');

/** Parses a JSON body; the message names the position of the first error. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) throw ApiError.invalid('Request body is empty; expected a JSON object');
  if (hasMoreJsonValues(body, MAX_JSON_VALUES)) {
    throw ApiError.invalid(
      `Request body holds more than ${TOO_MANY_VALUES} JSON values (object members and array items)`,
    );
  }
  let text: string;
  try {
    // Fatal: Buffer#toString would replace bad bytes with U+FFFD and send the garbage on.
    text = utf8.decode(body);
  } catch {
    throw ApiError.invalid('Request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message
      // V8 quotes the input (whole, or the text around the error) in some messages: a 30 MB echo helps
      // nobody, and the message reaches logs and spans, where the body's text must not.
      .replace(/, (?:\.\.\.)?".*is not valid JSON$/s, '')
      .replace(/^Unexpected end of JSON input$/, `Unexpected end of JSON input at position ${text.length}`);
    throw ApiError.invalid(`Invalid JSON in request body: ${message}`);
  }
}

export async function readJson(req: IncomingMessage, limit: number, hold?: BodyHold): Promise<unknown> {
  return parseJson(await readBody(req, limit, hold));
}

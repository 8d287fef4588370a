/**
 * Inlines remote media: every image/document `source: {type: 'url'}` in a request (top level and inside
 * tool results) is fetched and replaced by a base64 (or, for plain text, a text) source, because Bedrock
 * takes bytes, not URLs.
 *
 * The URLs come from clients, so the fetch is guarded: http(s) only; the host is resolved first and every
 * address must be public (see public-address.ts) unless allowed; the connection is pinned to the address
 * that was checked (a custom `lookup` on a one-off undici Agent; behind an outbound proxy, a CONNECT to that
 * address rather than the name), so DNS rebinding cannot swap it; redirects
 * are followed by hand and each hop is checked again; sizes are capped while streaming, not trusted from
 * Content-Length; one deadline covers DNS, connect, redirects and body.
 */

import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import type { buildConnector } from 'undici';
import { ApiError, echoed } from '../anthropic/errors.ts';
import type {
  DocumentBlockParam,
  DocumentSource,
  ImageBlockParam,
  ImageSource,
  MessagesRequest,
} from '../anthropic/types.ts';
import { abortable } from './abortable.ts';
import { proxyFor, readProxyEnv, tunnelConnector } from './proxy.ts';
import { isPublicAddress } from './public-address.ts';

export type MediaKind = 'image' | 'document';

export interface MediaFetchOptions {
  /** Size cap per fetched file, one number for both kinds or per kind. Default: image 5 MB, document 32 MB. */
  maxBytes?: number | Partial<Record<MediaKind, number>>;
  /** Cap on all files of one request together. Default 32 MB (Anthropic's request size limit). */
  maxTotalBytes?: number;
  /** Deadline per URL (DNS, connect, redirects and body). Default 10 s. */
  timeoutMs?: number;
  /** Allow any address, private and loopback included (tests; trusted networks). Default false. */
  allowPrivate?: boolean;
  /** Allow particular non-public addresses, e.g. an internal media server. */
  allowAddress?: (address: string) => boolean;
  /** Default 3. */
  maxRedirects?: number;
  /** Fetches in flight at once. Default 4. */
  concurrency?: number;
  /** Aborts every fetch, e.g. when the client disconnects. */
  signal?: AbortSignal;
  /** DNS resolution; defaults to the system resolver (all addresses). */
  lookup?: (hostname: string) => Promise<LookupAddress[]>;
  /**
   * Counts the bytes fetched against the gateway's budget of bodies in flight (body-budget.ts): they
   * become the request's body. An error it returns refuses the request as it is.
   */
  hold?: { take(bytes: number): ApiError | undefined };
}

export const MEDIA_FETCH_DEFAULTS = {
  maxBytes: { image: 5 * 1024 * 1024, document: 32 * 1024 * 1024 },
  maxTotalBytes: 32 * 1024 * 1024,
  timeoutMs: 10_000,
  maxRedirects: 3,
  concurrency: 4,
} as const;

/**
 * URLs one request may name: Anthropic's limit on images in one request. Each fetch may take its whole
 * deadline, four at a time: without a bound, a request naming thousands of URLs on a slow host held its
 * connection and four outbound sockets for hours.
 */
export const MAX_REMOTE_MEDIA = 100;

const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const ACCEPT: Record<MediaKind, string> = {
  image: 'image/png, image/jpeg, image/gif, image/webp;q=0.9, */*;q=0.1',
  document: 'application/pdf, text/plain;q=0.9, */*;q=0.1',
};
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Why a guarded fetch failed, for callers that map it to their own codes (web fetch). */
export type FetchFailureKind =
  | 'url'
  | 'not_public'
  | 'not_allowed'
  | 'status'
  | 'too_large'
  | 'redirects'
  | 'unreachable';

/** A reason the fetch failed, worded for the client; becomes the tail of the 400 message. */
export class FetchFailure extends Error {
  readonly kind: FetchFailureKind;
  /** The HTTP status, for kind `status`. */
  readonly status?: number;
  constructor(message: string, kind: FetchFailureKind = 'unreachable', status?: number) {
    super(message);
    this.kind = kind;
    if (status !== undefined) this.status = status;
  }
}

type Target = { url: string; path: string } & (
  | { kind: 'image'; block: ImageBlockParam }
  | { kind: 'document'; block: DocumentBlockParam }
);

// ---- finding the URLs ----

function collectFromBlocks(blocks: unknown, path: string, out: Target[]): void {
  if (!Array.isArray(blocks)) return;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i] as {
      type?: unknown;
      source?: { type?: unknown; url?: unknown; content?: unknown };
      content?: unknown;
    };
    const at = `${path}.${i}`;
    if (block.type === 'image' && block.source?.type === 'url') {
      out.push({ kind: 'image', block: block as ImageBlockParam, url: String(block.source.url), path: at });
    } else if (block.type === 'document' && block.source?.type === 'url') {
      out.push({
        kind: 'document',
        block: block as DocumentBlockParam,
        url: String(block.source.url),
        path: at,
      });
    } else if (block.type === 'tool_result') {
      collectFromBlocks(block.content, `${at}.content`, out);
    } else if (block.type === 'document' && block.source?.type === 'content') {
      collectFromBlocks(block.source.content, `${at}.source.content`, out);
    }
  }
}

/** Every URL-sourced image and document of the request, with its path for error messages. */
export function findRemoteMedia(req: MessagesRequest): Target[] {
  const out: Target[] = [];
  for (let m = 0; m < req.messages.length; m++) {
    collectFromBlocks(req.messages[m]!.content, `messages.${m}.content`, out);
  }
  return out;
}

// ---- fetching one URL ----

export interface Budget {
  remaining: number;
  readonly total: number;
  /** The request's hold on the gateway's body budget (MediaFetchOptions.hold). */
  readonly hold?: MediaFetchOptions['hold'];
}

export interface Fetched {
  bytes: Buffer;
  contentType: string | undefined;
  /** Where the bytes came from, after redirects. */
  url: string;
}

const mb = (n: number) => `${Math.round((n / (1024 * 1024)) * 10) / 10} MB`;

async function resolvePublic(url: URL, opts: Resolved): Promise<LookupAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  const addresses = literal ? [{ address: host, family: literal }] : await opts.lookup(host);
  if (addresses.length === 0) throw new FetchFailure(`${host} did not resolve`, 'unreachable');
  for (const a of addresses) {
    if (!opts.allowPrivate && !isPublicAddress(a.address) && !opts.allowAddress(a.address)) {
      throw new FetchFailure(
        literal
          ? `${host} is not a public address`
          : `${host} resolves to a non-public address (${a.address})`,
        'not_public',
      );
    }
  }
  return addresses[0]!;
}

/** A `lookup` that answers every name with the one address already checked. */
function pinnedLookup(pinned: LookupAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options?.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

/**
 * Through the outbound proxy (HTTPS_PROXY / HTTP_PROXY, unless NO_PROXY names the host): a CONNECT to the
 * checked address itself, never to the name, so the proxy (which would resolve the name again, to
 * whatever a rebinding DNS answers by then) cannot be steered elsewhere. TLS inside the tunnel still
 * names the host: undici takes the server name from `host`, not from `hostname`.
 */
function pinnedTunnel(proxy: URL, pinned: LookupAddress): buildConnector.connector {
  const tunnel = tunnelConnector(proxy);
  return (opts, callback) => tunnel({ ...opts, hostname: pinned.address }, callback);
}

/** Counts `bytes` more media in the request: past its total, a FetchFailure; past the body budget, its refusal. */
function spend(budget: Budget, bytes: number): void {
  budget.remaining -= bytes;
  if (budget.remaining < 0) {
    throw new FetchFailure(`remote media of this request exceed ${mb(budget.total)} in total`, 'too_large');
  }
  const refused = budget.hold?.take(bytes);
  if (refused) throw refused;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, max: number, budget: Budget) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    try {
      if (size > max) throw new FetchFailure(`larger than the ${mb(max)} limit`, 'too_large');
      spend(budget, chunk.length);
    } catch (err) {
      body.destroy();
      throw err;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/**
 * GETs one URL through the guard (public addresses only unless allowed, pinned DNS, redirects re-checked,
 * size capped while reading). Throws FetchFailure; `signal` carries the caller's deadline.
 */
export async function fetchGuarded(
  target: {
    url: string;
    max: number;
    accept: string;
    userAgent?: string;
    /** Whether a redirect may go on to this URL (web fetch's domain rules); each hop is asked before it is requested. */
    mayRedirectTo?: (url: URL) => boolean;
  },
  opts: Resolved,
  budget: Budget,
  signal: AbortSignal,
): Promise<Fetched> {
  let url: URL;
  try {
    url = new URL(target.url);
  } catch {
    throw new FetchFailure('not a valid URL', 'url');
  }
  const max = target.max;
  const proxies = readProxyEnv();
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new FetchFailure(`only http and https URLs are supported, not ${url.protocol}`, 'url');
    }
    const address = await abortable(resolvePublic(url, opts), signal);
    // undici's index (~110 modules) loads with the first remote file, not with the gateway.
    const { Agent, request } = await import('undici');
    const proxy = proxyFor(proxies, url.origin);
    const agent = new Agent({
      connect: proxy ? pinnedTunnel(proxy, address) : { lookup: pinnedLookup(address) },
    });
    try {
      const res = await request(url, {
        dispatcher: agent,
        method: 'GET',
        signal,
        headers: {
          accept: target.accept,
          'accept-encoding': 'identity',
          'user-agent': target.userAgent ?? 'abproxy-media-fetch',
        },
      });
      if (REDIRECTS.has(res.statusCode)) {
        await res.body.dump();
        const location = res.headers.location;
        if (typeof location !== 'string')
          throw new FetchFailure(`HTTP ${res.statusCode} without a Location`, 'status', res.statusCode);
        if (hop >= opts.maxRedirects)
          throw new FetchFailure(`more than ${opts.maxRedirects} redirects`, 'redirects');
        url = new URL(location, url);
        if (target.mayRedirectTo && !target.mayRedirectTo(url)) {
          throw new FetchFailure(`redirected to ${url.hostname}, which is not allowed`, 'not_allowed');
        }
        continue;
      }
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new FetchFailure(`HTTP ${res.statusCode}`, 'status', res.statusCode);
      }
      const declared = Number(res.headers['content-length']);
      if (declared > max) {
        res.body.destroy();
        throw new FetchFailure(`larger than the ${mb(max)} limit`, 'too_large');
      }
      const contentType = res.headers['content-type'];
      return {
        bytes: await readCapped(res.body, max, budget),
        contentType: typeof contentType === 'string' ? contentType : undefined,
        url: url.href,
      };
    } finally {
      agent.destroy().catch(() => {});
    }
  }
}

// ---- media types ----

/** The media type from the file's first bytes, when they say. */
export function sniffMediaType(bytes: Buffer): string | undefined {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf';
  return undefined;
}

// Magic bytes win over a mislabelled Content-Type; the header decides when the bytes do not say.

function declaredType(fetched: Fetched): string | undefined {
  return fetched.contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

function imageSource(fetched: Fetched): ImageSource {
  const sniffed = sniffMediaType(fetched.bytes);
  const type = sniffed && IMAGE_TYPES.includes(sniffed) ? sniffed : declaredType(fetched);
  if (!type || !IMAGE_TYPES.includes(type))
    throw new FetchFailure(`unsupported media type '${type ?? 'unknown'}'`);
  return { type: 'base64', media_type: type, data: fetched.bytes.toString('base64') };
}

function documentSource(fetched: Fetched): DocumentSource {
  const type = sniffMediaType(fetched.bytes) ?? declaredType(fetched);
  if (type === 'application/pdf') {
    return { type: 'base64', media_type: 'application/pdf', data: fetched.bytes.toString('base64') };
  }
  if (type === 'text/plain')
    return { type: 'text', media_type: 'text/plain', data: fetched.bytes.toString('utf8') };
  throw new FetchFailure(`unsupported media type '${type ?? 'unknown'}'`);
}

function replaceSource(target: Target, fetched: Fetched): void {
  switch (target.kind) {
    case 'image':
      target.block.source = imageSource(fetched);
      return;
    case 'document':
      target.block.source = documentSource(fetched);
      return;
    default: {
      const never: never = target;
      throw new Error(`unknown media kind ${String(never)}`);
    }
  }
}

// ---- the whole request ----

export interface Resolved {
  maxBytes: Record<MediaKind, number>;
  timeoutMs: number;
  allowPrivate: boolean;
  allowAddress: (address: string) => boolean;
  maxRedirects: number;
  lookup: (hostname: string) => Promise<LookupAddress[]>;
}

export function resolveOptions(options: MediaFetchOptions): Resolved {
  const d = MEDIA_FETCH_DEFAULTS;
  const max = options.maxBytes;
  return {
    maxBytes:
      typeof max === 'number'
        ? { image: max, document: max }
        : { image: max?.image ?? d.maxBytes.image, document: max?.document ?? d.maxBytes.document },
    timeoutMs: options.timeoutMs ?? d.timeoutMs,
    allowPrivate: options.allowPrivate ?? false,
    allowAddress: options.allowAddress ?? (() => false),
    maxRedirects: options.maxRedirects ?? d.maxRedirects,
    lookup: options.lookup ?? ((host) => dnsLookup(host, { all: true, verbatim: true })),
  };
}

export function describeFailure(err: unknown, deadline: AbortSignal, timeoutMs: number): string {
  if (err instanceof FetchFailure) return err.message;
  if (deadline.aborted) return `timed out after ${timeoutMs / 1000} s`;
  const e = err as { code?: unknown; message?: unknown };
  const detail = typeof e?.message === 'string' ? e.message : String(err);
  return typeof e?.code === 'string' ? `${e.code} (${detail})` : detail;
}

/**
 * Replaces every URL image/document source in `req` by its fetched content. Several URLs are fetched at
 * once; the same URL is fetched once. Throws ApiError 400 naming the field on the first failure.
 */
export async function inlineRemoteMedia(
  req: MessagesRequest,
  options: MediaFetchOptions = {},
): Promise<void> {
  const targets = findRemoteMedia(req);
  if (targets.length === 0) return;
  const extra = targets[MAX_REMOTE_MEDIA];
  if (extra) {
    throw ApiError.invalid(
      `${extra.path}.source.url: a request may name at most ${MAX_REMOTE_MEDIA} remote images and documents`,
    );
  }
  const opts = resolveOptions(options);
  const total = options.maxTotalBytes ?? MEDIA_FETCH_DEFAULTS.maxTotalBytes;
  const budget: Budget = { remaining: total, total, ...(options.hold ? { hold: options.hold } : {}) };
  const failed = new AbortController();
  const shared = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal;
  const cache = new Map<string, Promise<Fetched>>();

  const inlineOne = async (target: Target): Promise<void> => {
    const key = `${target.kind} ${target.url}`;
    let pending = cache.get(key);
    const reused = pending !== undefined;
    const deadline = AbortSignal.timeout(opts.timeoutMs);
    if (!pending) {
      pending = fetchGuarded(
        { url: target.url, max: opts.maxBytes[target.kind], accept: ACCEPT[target.kind] },
        opts,
        budget,
        AbortSignal.any([shared, deadline]),
      );
      cache.set(key, pending);
    }
    try {
      const fetched = await pending;
      // Fetched once, but every block naming the URL carries its own copy of the bytes on.
      if (reused) spend(budget, fetched.bytes.length);
      replaceSource(target, fetched);
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      // The gateway's refusal (its body budget), not a fault of the URL.
      if (err instanceof ApiError) throw err;
      // The reason may repeat the URL's host (a resolver error), whatever its length.
      const reason = echoed(describeFailure(err, deadline, opts.timeoutMs), 300);
      const message = `${target.path}.source.url: could not fetch ${target.kind}: ${reason}`;
      throw new ApiError('invalid_request_error', message, { cause: err });
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length && !failed.signal.aborted) await inlineOne(targets[next++]!);
  };
  const workers = Array.from(
    { length: Math.min(options.concurrency ?? MEDIA_FETCH_DEFAULTS.concurrency, targets.length) },
    worker,
  );
  try {
    await Promise.all(workers);
  } catch (err) {
    failed.abort(err);
    throw err;
  }
}

/**
 * AWS Signature Version 4 for the hot Bedrock runtime calls: header signing of one request with no
 * query string, on node:crypto. Written out rather than through @smithy/signature-v4 because this runs
 * on every request: the library re-derives an HMAC of the secret for its key cache, clones the request
 * and awaits a promise per step (~50 µs a call against ~10 µs here). The output is the library's,
 * byte for byte (sigv4.test.ts compares the two over generated requests): same canonical path
 * (segments normalised, encoded a second time), same unsignable headers, same value trimming.
 */
import { createHmac, hash } from 'node:crypto';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { awsNowMs } from './aws-clock.ts';

export interface SigV4SignerOptions {
  service: string;
  /** Asked on every signature (providers cache and refresh temporary credentials themselves). */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export interface SignInput {
  method: string;
  host: string;
  /** The path as sent on the wire (already percent-encoded once). */
  path: string;
  /** Lower-case names; these are all signed (plus host and the x-amz-* headers added here). */
  headers: Record<string, string>;
  body: string | Uint8Array;
  region: string;
  /** The signing time; default AWS's clock as learnt (aws-clock.ts), not merely this machine's. */
  now?: Date;
}

/** Headers a proxy may change or drop: never signed (the SDK's ALWAYS_UNSIGNABLE_HEADERS). */
const UNSIGNABLE = new Set([
  'authorization',
  'cache-control',
  'connection',
  'expect',
  'from',
  'keep-alive',
  'max-forwards',
  'pragma',
  'referer',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);
const UNSIGNABLE_PREFIX = /^(proxy-|sec-)/;
/** Input headers the signature makes itself: dropped from the input, as the SDK does. */
const GENERATED = new Set(['authorization', 'x-amz-date', 'date']);

/** RFC 3986 encoding, as the SDK's escapeUri: encodeURIComponent plus `!'()*`. */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The canonical URI: `.` and `..` resolved, empty segments dropped, each segment encoded again. */
function canonicalPathOf(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalised = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalised).replace(/%2F/g, '/');
}

/**
 * canonicalPathOf, remembered: a gateway calls a handful of paths (`/model/{id}/{operation}`) over and
 * over. Bounded; cleared when full (a door caller may name many model ids).
 */
const canonicalPaths = new Map<string, string>();
function canonicalPath(path: string): string {
  let canonical = canonicalPaths.get(path);
  if (canonical === undefined) {
    canonical = canonicalPathOf(path);
    if (canonicalPaths.size >= 512) canonicalPaths.clear();
    canonicalPaths.set(path, canonical);
  }
  return canonical;
}

/** `x-amz-date` (`20260102T030405Z`) and its day, rebuilt once a second rather than on every call. */
let dateSecond = Number.NaN;
let dateLong = '';
function amzDate(now: Date | undefined): string {
  const second = Math.floor((now === undefined ? awsNowMs() : now.getTime()) / 1000);
  if (second !== dateSecond) {
    dateLong = new Date(second * 1000).toISOString().replace(/[-:]|\.\d{3}/g, '');
    dateSecond = second;
  }
  return dateLong;
}

// One-shot: no Hash object per call (crypto.hash is about twice as fast as createHash().update().digest()).
const sha256Hex = (data: string | Uint8Array) => hash('sha256', data, 'hex');

/** SHA-256's block size in bytes. */
const BLOCK = 64;

/**
 * The day's signing key as HMAC-SHA256 (RFC 2104) pads: each signature is then two one-shot hashes,
 * H(outer ‖ H(inner ‖ stringToSign)), the very bytes createHmac gives (sigv4.test.ts compares them).
 * Under load createHmac cost ~6 µs a call here (OpenSSL's per-object HMAC set-up; measured in a c=128
 * profile), the two hashes ~2. The pads sit at the start of buffers reused for every signature (signing
 * is synchronous, so no two calls share them at once).
 */
class SigningKey {
  readonly secret: string;
  /** (key ⊕ ipad), then room for the string to sign. */
  #inner = Buffer.allocUnsafe(512);
  /** (key ⊕ opad), then the inner digest. */
  readonly #outer = Buffer.allocUnsafe(BLOCK + 32);

  constructor(secret: string, key: Buffer) {
    this.secret = secret;
    // Derived keys are 32 bytes, within SHA-256's 64-byte block: no pre-hash needed.
    for (let i = 0; i < BLOCK; i++) {
      const byte = key[i] ?? 0;
      this.#inner[i] = byte ^ 0x36;
      this.#outer[i] = byte ^ 0x5c;
    }
  }

  /** HMAC-SHA256 of `text` under this key, in hex. */
  hmacHex(text: string): string {
    const length = Buffer.byteLength(text);
    if (BLOCK + length > this.#inner.length) {
      const grown = Buffer.allocUnsafe(BLOCK + length);
      this.#inner.copy(grown, 0, 0, BLOCK);
      this.#inner = grown;
    }
    this.#inner.write(text, BLOCK);
    hash('sha256', this.#inner.subarray(0, BLOCK + length), 'buffer').copy(this.#outer, BLOCK);
    return hash('sha256', this.#outer, 'hex');
  }
}

export class SigV4Signer {
  readonly #service: string;
  readonly #credentials: SigV4SignerOptions['credentials'];
  /** The day's signing key per date and region: four HMACs once a day instead of on every call. */
  readonly #keys = new Map<string, SigningKey>();

  constructor(options: SigV4SignerOptions) {
    this.#service = options.service;
    this.#credentials = options.credentials;
  }

  /** The headers to send: the input's, plus host, x-amz-date, x-amz-security-token and authorization. */
  async sign(input: SignInput): Promise<Record<string, string>> {
    const credentials =
      typeof this.#credentials === 'function' ? await this.#credentials() : this.#credentials;
    const longDate = amzDate(input.now);
    const shortDate = longDate.slice(0, 8);
    const scope = `${shortDate}/${input.region}/${this.#service}/aws4_request`;
    const headers: Record<string, string> = {};
    for (const name in input.headers) {
      if (!GENERATED.has(name.toLowerCase())) headers[name] = input.headers[name]!;
    }
    headers.host = input.host;
    headers['x-amz-date'] = longDate;
    if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;

    // One pass: the signed names (sorted below) and the values by lower-case name.
    const names: string[] = [];
    const lower: Record<string, string> = {};
    for (const name in headers) {
      const low = name.toLowerCase();
      lower[low] = headers[name]!;
      if (!UNSIGNABLE.has(low) && !UNSIGNABLE_PREFIX.test(low)) names.push(low);
    }
    names.sort();
    let canonicalHeaders = '';
    for (const name of names) canonicalHeaders += `${name}:${lower[name]!.trim().replace(/\s+/g, ' ')}\n`;
    const signedHeaders = names.join(';');
    const canonicalRequest = `${input.method}\n${canonicalPath(input.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(input.body)}`;
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signature = this.#signingKey(credentials.secretAccessKey, shortDate, input.region).hmacHex(
      stringToSign,
    );
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }

  #signingKey(secret: string, shortDate: string, region: string): SigningKey {
    const id = `${shortDate}/${region}`;
    const cached = this.#keys.get(id);
    // A rotated secret derives a new key (the provider is asked on every call).
    if (cached?.secret === secret) return cached;
    let key: Buffer = Buffer.from(`AWS4${secret}`, 'utf8');
    for (const part of [shortDate, region, this.#service, 'aws4_request']) {
      key = createHmac('sha256', key).update(part).digest();
    }
    // Days and regions come and go; a bound keeps old keys from piling up.
    if (this.#keys.size >= 16) this.#keys.clear();
    const entry = new SigningKey(secret, key);
    this.#keys.set(id, entry);
    return entry;
  }
}

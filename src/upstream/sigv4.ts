/**
 * AWS Signature Version 4 for the hot Bedrock runtime calls: header signing of one request with no
 * query string. The day's signing key is derived once (four HMACs) and reused until the date, region
 * or secret changes, so a request costs two SHA-256 digests and one HMAC.
 */
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
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
  service: string;
  credentials: SigningCredentials;
  now?: Date;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 3986 escaping as AWS canonicalisation wants it. */
function escapeUri(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Non-S3 services sign the already-encoded path encoded once more, segment by segment. */
function canonicalUri(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(escapeUri(segment));
  }
  return `/${segments.join('/')}${path.endsWith('/') && segments.length > 0 ? '/' : ''}`;
}

/** `20250102T030405Z` */
function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export class SigV4Signer {
  #cache: { scope: string; secret: string; key: KeyObject } | undefined;

  /** A KeyObject: HMAC with a raw Buffer key imports the key on every call (several times slower). */
  #signingKey(secret: string, date: string, region: string, service: string): KeyObject {
    const scope = `${date}/${region}/${service}`;
    const cached = this.#cache;
    if (cached && cached.scope === scope && cached.secret === secret) return cached.key;
    const key = createSecretKey(
      hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request'),
    );
    this.#cache = { scope, secret, key };
    return key;
  }

  /** The headers to send: the input's, plus host, x-amz-date, x-amz-security-token and authorization. */
  sign(input: SignInput): Record<string, string> {
    const time = amzDate(input.now ?? new Date());
    const date = time.slice(0, 8);
    const headers: Record<string, string> = { ...input.headers, host: input.host, 'x-amz-date': time };
    if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;
    const names = Object.keys(headers).sort();
    let canonicalHeaders = '';
    for (const name of names) canonicalHeaders += `${name}:${headers[name]!.trim().replace(/\s+/g, ' ')}\n`;
    const signedHeaders = names.join(';');
    const canonicalRequest = `${input.method}\n${canonicalUri(input.path)}\n\n${canonicalHeaders}\n${signedHeaders}\n${sha256Hex(input.body)}`;
    const scope = `${date}/${input.region}/${input.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${time}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const key = this.#signingKey(input.credentials.secretAccessKey, date, input.region, input.service);
    const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return headers;
  }
}

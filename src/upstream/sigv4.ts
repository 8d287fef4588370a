/**
 * AWS Signature Version 4 for the hot Bedrock runtime calls, by the SDK's own signer
 * (@smithy/signature-v4 with the SDK's native SHA-256): header signing of one request with no query
 * string. The library caches the day's signing key per secret, region and service.
 */
import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Checksum,
  SourceData,
} from '@smithy/types';

/** HMAC keys as KeyObjects, made once: a raw key is imported again on every HMAC (a third of signing). */
const bytesKeys = new WeakMap<object, KeyObject>();
const stringKeys = new Map<string, KeyObject>();

function keyObject(secret: SourceData): KeyObject {
  if (typeof secret === 'string') {
    let key = stringKeys.get(secret);
    if (!key) {
      // Secrets rotate rarely; a bound keeps old ones from piling up.
      if (stringKeys.size >= 16) stringKeys.clear();
      key = createSecretKey(Buffer.from(secret, 'utf8'));
      stringKeys.set(secret, key);
    }
    return key;
  }
  let key = bytesKeys.get(secret);
  if (!key) {
    const bytes = ArrayBuffer.isView(secret)
      ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
      : new Uint8Array(secret);
    // Copied: the signer could reuse the array, the key must not change with it.
    key = createSecretKey(Buffer.from(bytes));
    bytesKeys.set(secret, key);
  }
  return key;
}

/** The signer's SHA-256/HMAC on node:crypto, like the SDK's Sha256 but with the keys kept as KeyObjects. */
class Sha256 implements Checksum {
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#create();
  }

  #create(): Hash | Hmac {
    return this.#secret === undefined ? createHash('sha256') : createHmac('sha256', keyObject(this.#secret));
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  async digest(): Promise<Uint8Array> {
    const out = this.#hash.digest();
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  reset(): void {
    this.#hash = this.#create();
  }
}

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
  now?: Date;
}

export class SigV4Signer {
  readonly #signer: SignatureV4;

  constructor(options: SigV4SignerOptions) {
    this.#signer = new SignatureV4({
      service: options.service,
      credentials: options.credentials,
      // Only the region default; every call names its own.
      region: 'us-east-1',
      sha256: Sha256,
      // Bedrock does not need x-amz-content-sha256 (the payload hash is in the signature anyway).
      applyChecksum: false,
    });
  }

  /** The headers to send: the input's, plus host, x-amz-date, x-amz-security-token and authorization. */
  async sign(input: SignInput): Promise<Record<string, string>> {
    const signed = await this.#signer.sign(
      {
        method: input.method,
        protocol: 'https:',
        hostname: input.host,
        path: input.path,
        query: {},
        headers: { ...input.headers, host: input.host },
        body: input.body,
      },
      { signingDate: input.now, signingRegion: input.region },
    );
    return signed.headers;
  }
}

import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAuth } from '../../test/emulator/sigv4.ts';
import { SigV4Signer } from './sigv4.ts';

const credentials = { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' };
const path = `/model/${encodeURIComponent('qwen.qwen3-coder-480b-a35b-v1:0')}/converse`;
const body = '{"messages":[{"role":"user","content":[{"text":"héllo"}]}]}';

function signed(signer: SigV4Signer, now?: Date) {
  return signer.sign({
    method: 'POST',
    host: '127.0.0.1:8080',
    path,
    headers: { 'content-type': 'application/json' },
    body,
    region: 'us-east-1',
    now,
  });
}

describe('SigV4Signer', () => {
  it('matches the AWS get-vanilla test vector', async () => {
    const signer = new SigV4Signer({
      service: 'service',
      credentials: {
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      },
    });
    const headers = await signer.sign({
      method: 'GET',
      host: 'example.amazonaws.com',
      path: '/',
      headers: {},
      body: '',
      region: 'us-east-1',
      now: new Date('2015-08-30T12:36:00Z'),
    });
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('signs requests the strict emulator accepts, again after the day changes', async () => {
    const signer = new SigV4Signer({ service: 'bedrock', credentials });
    for (const now of [new Date(), new Date(Date.now() + 86_400_000), new Date()]) {
      const headers = await signed(signer, now);
      // The emulator's clock (AWS's) at the signing time: the signature is current.
      expect(
        checkAuth(
          { method: 'POST', rawPath: path, rawQuery: '', headers, body: Buffer.from(body) },
          undefined,
          undefined,
          now.getTime(),
        ),
      ).toBeUndefined();
    }
  });

  it('asks the provider on every call: a rotated secret is not served from the key cache', async () => {
    let secretAccessKey = credentials.secretAccessKey;
    const signer = new SigV4Signer({
      service: 'bedrock',
      credentials: async () => ({ ...credentials, secretAccessKey }),
    });
    await signed(signer);
    secretAccessKey = 'rotated-secret';
    const headers = await signed(signer);
    const failure = checkAuth({
      method: 'POST',
      rawPath: path,
      rawQuery: '',
      headers,
      body: Buffer.from(body),
    });
    expect(failure?.name).toBe('InvalidSignatureException');
  });

  it('adds the session token of temporary credentials', async () => {
    const signer = new SigV4Signer({
      service: 'bedrock',
      credentials: { ...credentials, sessionToken: 'tok' },
    });
    const headers = await signer.sign({
      method: 'POST',
      host: 'h',
      path: '/',
      headers: {},
      body: '',
      region: 'us-east-1',
    });
    expect(headers['x-amz-security-token']).toBe('tok');
    expect(headers.authorization).toContain('SignedHeaders=host;x-amz-date;x-amz-security-token,');
  });
});

describe('SigV4Signer against @smithy/signature-v4', () => {
  /** The SDK signer on node:crypto, configured as the SDK signs Bedrock (no x-amz-content-sha256). */
  class NodeSha256 {
    #hash;
    constructor(secret?: SourceData) {
      this.#hash =
        secret === undefined
          ? createHash('sha256')
          : createHmac('sha256', typeof secret === 'string' ? secret : new Uint8Array(secret as ArrayBuffer));
    }
    update(data: Uint8Array) {
      this.#hash.update(data);
    }
    async digest() {
      return new Uint8Array(this.#hash.digest());
    }
    reset() {}
  }
  const header = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
  const value = fc.stringMatching(/^[ \tA-Za-z0-9:;,./=+-]{1,24}$/).filter((v) => v.trim() !== '');
  const segment = fc.oneof(
    fc.constantFrom('.', '..', '', 'model', 'converse'),
    fc.string({ minLength: 1, maxLength: 8 }).map((s) => encodeURIComponent(s)),
  );

  it('writes the same headers, byte for byte, for any request', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          service: fc.constantFrom('bedrock', 'service'),
          // A region long enough that the string to sign outgrows the signer's reused HMAC buffer.
          region: fc.constantFrom('us-east-1', 'eu-west-3', `ap-${'long'.repeat(150)}-1`),
          path: fc
            .array(segment, { maxLength: 5 })
            .chain((parts) => fc.constantFrom(`/${parts.join('/')}`, `/${parts.join('/')}/`)),
          headers: fc.dictionary(header, value, { maxKeys: 5 }),
          body: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 })),
          sessionToken: fc.option(fc.stringMatching(/^[A-Za-z0-9]{1,10}$/), { nil: undefined }),
          now: fc.date({ min: new Date('2000-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }),
        }),
        async ({ service, region, path: p, headers, body: b, sessionToken, now }) => {
          const creds = { ...credentials, sessionToken };
          const ours = await new SigV4Signer({ service, credentials: creds }).sign({
            method: 'POST',
            host: 'bedrock-runtime.example.com',
            path: p,
            headers,
            body: b,
            region,
            now,
          });
          const theirs = await new SignatureV4({
            service,
            region,
            credentials: creds,
            sha256: NodeSha256,
            applyChecksum: false,
          }).sign(
            {
              method: 'POST',
              protocol: 'https:',
              hostname: 'bedrock-runtime.example.com',
              path: p,
              query: {},
              headers: { ...headers, host: 'bedrock-runtime.example.com' },
              body: b,
            },
            { signingDate: now, signingRegion: region },
          );
          expect(ours).toEqual(theirs.headers);
        },
      ),
      { numRuns: 300 },
    );
  });
});

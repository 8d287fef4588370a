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
      // The emulator checks the date header against its own clock only through the scope.
      expect(
        checkAuth({ method: 'POST', rawPath: path, rawQuery: '', headers, body: Buffer.from(body) }),
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

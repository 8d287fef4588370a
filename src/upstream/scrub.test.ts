import { describe, expect, it } from 'vitest';
import { withoutCredentials } from './scrub.ts';

describe('withoutCredentials', () => {
  it('removes what a SigV4-signed call carries when an endpoint echoes its headers', () => {
    const signature = 'a1'.repeat(32);
    // Built here, so that no key-shaped literal sits in the repository.
    const accessKeyId = `AKIA${'EXAMPLE0'.repeat(2)}`;
    const temporaryKeyId = `ASIA${'EXAMPLE0'.repeat(2)}`;
    const token = `IQoJb3JpZ2luX2VjE${'Z'.repeat(300)}`;
    const echoed =
      `you sent Authorization: AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261203/us-east-1/bedrock/aws4_request, ` +
      `SignedHeaders=host;x-amz-date, Signature=${signature} with X-Amz-Security-Token: ${token}; ` +
      `key ${temporaryKeyId}, "x-amz-security-token":"${'T'.repeat(40)}", cut: 256 Credential=AKIDEMULATOR/20261203/us-east-1/bedrock/aws4_request`;
    const scrubbed = withoutCredentials(echoed);
    for (const secret of [accessKeyId, temporaryKeyId, signature, 'IQoJb3JpZ2lu', 'TTTTTTTT']) {
      expect(scrubbed).not.toContain(secret);
    }
    expect(scrubbed).toContain('SignedHeaders=host;x-amz-date');
  });

  it("keeps AWS's own words", () => {
    for (const text of [
      'The security token included in the request is expired',
      'Bearer Token has expired',
      'The request signature we calculated does not match the signature you provided.',
      'Asia Pacific (Tokyo) is not enabled for this account',
    ]) {
      expect(withoutCredentials(text)).toBe(text);
    }
  });
});

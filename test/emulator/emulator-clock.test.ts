/**
 * AWS refuses a request signed more than five minutes from its own clock (403 InvalidSignatureException,
 * "Signature expired" / "Signature not yet current") and dates every answer with its time, which is how
 * the AWS SDK corrects a wrong local clock. The emulator must do both, or a gateway that cannot recover
 * from a skewed clock passes every test here.
 */
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './server.ts';
import { runtimeClient, TEST_CREDENTIALS } from './test-clients.ts';

const input = {
  modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  messages: [{ role: 'user' as const, content: [{ text: 'hi' }] }],
};
const MINUTE = 60_000;

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

async function failure(client: BedrockRuntimeClient) {
  return client.send(new ConverseCommand(input)).then(
    () => undefined,
    (e: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: e.name,
      status: e.$metadata?.httpStatusCode,
      message: e.message,
    }),
  );
}

describe('the emulator checks x-amz-date against its clock, as AWS does', () => {
  it.each([
    [
      6 * MINUTE,
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
    ],
    [
      -6 * MINUTE,
      /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 5 min\.\)$/,
    ],
  ])('AWS %d ms off: refused with a 403, then the SDK corrects its clock', async (offset, message) => {
    emulator.setClockOffset(offset);
    const client = runtimeClient(emulator.url, 'h1-keepalive');
    try {
      const refused = await failure(client);
      expect(refused).toMatchObject({ name: 'InvalidSignatureException', status: 403 });
      expect(refused?.message).toMatch(message);
      // The answer's Date header was AWS's time: the SDK learnt the offset and signs with it now.
      expect(await failure(client)).toBeUndefined();
    } finally {
      client.destroy();
      emulator.setClockOffset(0);
    }
  });

  it('accepts a signature within five minutes of its clock', async () => {
    emulator.setClockOffset(4 * MINUTE);
    const client = runtimeClient(emulator.url, 'h1-keepalive');
    try {
      expect(await failure(client)).toBeUndefined();
    } finally {
      client.destroy();
      emulator.setClockOffset(0);
    }
  });

  it('an SDK client with retries recovers on the call itself (over h2c as over HTTP/1.1)', async () => {
    emulator.setClockOffset(-10 * MINUTE);
    const client = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: emulator.url,
      credentials: TEST_CREDENTIALS,
    });
    try {
      expect(await failure(client)).toBeUndefined();
    } finally {
      client.destroy();
      emulator.setClockOffset(0);
    }
  });
});

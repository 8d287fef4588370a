/** SDK clients pointed at an emulator, for the emulator's own tests and for other suites. */

import http from 'node:http';
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from './sigv4.ts';

export const TEST_CREDENTIALS = { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY };

export type Transport = 'h2-default' | 'h1-keepalive';

export function runtimeClient(
  url: string,
  transport: Transport = 'h2-default',
  credentials = TEST_CREDENTIALS,
) {
  return new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: url,
    credentials,
    maxAttempts: 1,
    ...(transport === 'h1-keepalive'
      ? {
          requestHandler: new NodeHttpHandler({
            httpAgent: new http.Agent({ keepAlive: true, maxSockets: 16 }),
          }),
        }
      : {}),
  });
}

export function controlClient(url: string) {
  return new BedrockClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
  });
}

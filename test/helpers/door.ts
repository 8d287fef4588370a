/**
 * The AWS SDK's Bedrock clients pointed at the gateway's Bedrock-format door, with a gateway key as
 * their Bedrock API key (bearer auth, as `AWS_BEARER_TOKEN_BEDROCK` would give it) and no retries, so
 * a test sees the first answer; and the usage records the door's calls leave.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import type { Store, UsageRecord } from '../../src/store/types.ts';

const bearer = (token: string, endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  token: { token },
  authSchemePreference: ['httpBearerAuth'],
  maxAttempts: 1,
});

export function doorClient(token: string, endpoint: string): BedrockRuntimeClient {
  return new BedrockRuntimeClient(bearer(token, endpoint));
}

/** The control plane's client (ListFoundationModels, GetInferenceProfile, …) on the door. */
export function doorControlClient(token: string, endpoint: string): BedrockClient {
  return new BedrockClient(bearer(token, endpoint));
}

/**
 * A key's finished usage records (an `open` record, status 0, is a call still running), once there are
 * `count` of them: they reach the store off the request path. Fails after 10 s.
 */
export async function finishedUsage(store: Store, keyId: string, count = 1): Promise<UsageRecord[]> {
  for (let i = 0; i < 200; i++) {
    const records = (await store.listUsage({ since: '2000-01-01T00:00:00Z', keyId })).filter(
      (r) => r.status !== 0,
    );
    if (records.length >= count) return records;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no usage record for ${keyId}`);
}

/**
 * The AWS SDK's BedrockRuntimeClient pointed at the gateway's Bedrock-format door, with a gateway key
 * as its Bedrock API key (bearer auth, as `AWS_BEARER_TOKEN_BEDROCK` would give it) and no retries, so
 * a test sees the first answer.
 */
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';

export function doorClient(token: string, endpoint: string): BedrockRuntimeClient {
  return new BedrockRuntimeClient({
    endpoint,
    region: 'us-east-1',
    token: { token },
    authSchemePreference: ['httpBearerAuth'],
    maxAttempts: 1,
  });
}

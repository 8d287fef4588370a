/**
 * Upstream error text without the gateway's credentials, whichever transport brought it (codec.ts for
 * undici, runtime-sdk.ts for the AWS SDK) and wherever it goes (the fault table's message, the logs).
 */

/**
 * Credentials an endpoint may echo in an error (a proxy's "invalid token Bearer …"): the gateway's
 * Bedrock API key (`ABSK…`, `bedrock-api-key-…`) and any bearer token; and, from a SigV4-signed call,
 * the signing credential (access key id and scope), the signature, the session token (by header name,
 * or by the prefix every STS token has) and any access key id. An upstream error's message reaches
 * clients and logs, which must never see the gateway's credentials.
 */
// 16 characters at least: AWS's own words ("Bearer token has expired") are kept.
const ECHOED_CREDENTIAL =
  /\b(?:Bearer\s+[\w.~+/=-]{16,}|ABSK[\w+/=]{16,}|bedrock-api-key-[\w+/=.-]{16,}|X-Amz-Security-Token["']?\s*[:=]\s*["']?[\w+/=%]{16,})/gi;
// Case-sensitive, as AWS writes them.
const ECHOED_AWS_CREDENTIAL =
  /\bCredential=[^\s,"']{1,160}\/aws4_request\b|\bSignature=[0-9a-f]{64}\b|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\b(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[\w+/=]{16,}/g;

/** `text` with any credential it echoes replaced by `[redacted]`. */
export function withoutCredentials(text: string): string {
  return text.replace(ECHOED_CREDENTIAL, '[redacted]').replace(ECHOED_AWS_CREDENTIAL, '[redacted]');
}

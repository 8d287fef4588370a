/**
 * How Claude Code proves who it is to what `abproxy claude` points it at. The one place that picks the
 * credential route, so new ones (Claude Code's own Bedrock mode, gateway sign-in) plug in here.
 *
 * Why ANTHROPIC_AUTH_TOKEN for a gateway key: the interactive CLI asks "Detected a custom API key in your
 * environment · Do you want to use this API key?" about ANTHROPIC_API_KEY, with "No (recommended)"
 * preselected, and a refused key leaves it "Not logged in". ANTHROPIC_AUTH_TOKEN (sent as
 * `Authorization: Bearer`, which the gateway accepts like `x-api-key`) is used without that question and
 * also skips the first-run connectivity check against api.anthropic.com. A gateway the user signed in to
 * gets an `apiKeyHelper` (`abproxy token`), the route Claude Code documents for rotating tokens, also
 * without a prompt. Pure: no I/O.
 */

/** What Claude Code authenticates with. */
export type CredentialSource =
  | { kind: 'gateway-key'; key: string }
  /**
   * Claude Code's own Bedrock mode against the gateway's Bedrock-format door: the key travels as a
   * Bedrock API key (AWS_BEARER_TOKEN_BEDROCK, sent as `Authorization: Bearer`), so Claude Code never
   * looks for AWS credentials; `region` is the gateway's, whose inference profile ids Claude Code picks.
   */
  | { kind: 'bedrock-key'; key: string; region: string }
  /** A gateway the user signed in to (`abproxy login`): `command` prints a fresh access token. */
  | { kind: 'sign-in'; command: string };

export interface CredentialRoute {
  /** Variables to set in Claude Code's environment. */
  env: Readonly<Record<string, string>>;
  /** Variables to remove first: credentials Claude Code would prefer, or ask the user about. */
  cleared: readonly string[];
  /** Arguments to put before the user's own (e.g. `--settings` with an apiKeyHelper). */
  args: readonly string[];
  /** The variable that holds the gateway's URL: the Anthropic API's, or Bedrock mode's. */
  baseUrlVariable: 'ANTHROPIC_BASE_URL' | 'ANTHROPIC_BEDROCK_BASE_URL';
}

/** Credentials Claude Code reads from the environment; any of them would compete with the route's. */
export const CREDENTIAL_VARIABLES = [
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'CLAUDE_CODE_API_KEY_FILE_DESCRIPTOR',
  'CLAUDE_CODE_OAUTH_TOKEN_FILE_DESCRIPTOR',
] as const;

export function credentialRoute(source: CredentialSource): CredentialRoute {
  switch (source.kind) {
    case 'gateway-key':
      return {
        env: { ANTHROPIC_AUTH_TOKEN: source.key },
        cleared: CREDENTIAL_VARIABLES,
        args: [],
        baseUrlVariable: 'ANTHROPIC_BASE_URL',
      };
    case 'bedrock-key':
      return {
        env: {
          CLAUDE_CODE_USE_BEDROCK: '1',
          AWS_BEARER_TOKEN_BEDROCK: source.key,
          AWS_REGION: source.region,
        },
        // CLAUDE_CODE_SKIP_BEDROCK_AUTH would send no credential at all; a profile or SSO session
        // could have Claude Code refresh AWS credentials the door refuses anyway.
        cleared: [
          ...CREDENTIAL_VARIABLES,
          'CLAUDE_CODE_SKIP_BEDROCK_AUTH',
          'AWS_PROFILE',
          'ANTHROPIC_BASE_URL',
        ],
        args: [],
        baseUrlVariable: 'ANTHROPIC_BEDROCK_BASE_URL',
      };
    case 'sign-in':
      // Access tokens last an hour: Claude Code runs the helper again every 5 minutes and on a 401,
      // and `abproxy token` refreshes the sign-in when it is close to expiry. No approval prompt either.
      return {
        env: {},
        cleared: CREDENTIAL_VARIABLES,
        args: ['--settings', JSON.stringify({ apiKeyHelper: source.command })],
        baseUrlVariable: 'ANTHROPIC_BASE_URL',
      };
    default: {
      const unknown: never = source;
      throw new Error(`unknown credential source ${JSON.stringify(unknown)}`);
    }
  }
}

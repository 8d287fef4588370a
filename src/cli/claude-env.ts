/**
 * The environment `abproxy claude` gives Claude Code. Pure: the caller's env in, the child's env out.
 *
 * - Points Claude Code at the gateway (ANTHROPIC_BASE_URL plus the credential route's variables, see
 *   claude-credentials.ts) and removes what would send it elsewhere or authenticate differently (its own
 *   Bedrock/Vertex/Foundry modes, any other credential it would prefer or ask the user about).
 * - Turns off traffic that has nowhere to go behind a gateway (telemetry, auto-update, error reports)
 *   and the per-session attribution line that defeats prompt caching; a value the user set wins.
 * - Model flags become ANTHROPIC_MODEL and friends. An open (non-Claude) model also takes the fable,
 *   opus and sonnet slots (subagents and /model offer those), and Claude Code is told its real context window, output cap
 *   and capabilities, which it cannot know for a model it has never heard of. Otherwise /model also
 *   offers the Claude models the gateway lists (Claude Code's gateway model discovery).
 */
import { isClaudeLike } from '../models/aliases.ts';
import type { ModelCapabilities } from '../models/types.ts';
import type { CredentialRoute } from './claude-credentials.ts';

export type Env = Record<string, string | undefined>;

export interface ClaudeEnvInput {
  /** The caller's environment (copied, never changed). */
  base: Env;
  gatewayUrl: string;
  /** How Claude Code authenticates (from credentialRoute). */
  credentials: CredentialRoute;
  model?: string;
  smallModel?: string;
  /** Capabilities of a model as the gateway will call it (undefined when unknown). */
  capsOf?: (model: string) => ModelCapabilities | undefined;
}

/** Variables that would route Claude Code around the gateway or authenticate it another way. */
export const CLEARED_VARIABLES = [
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CLAUDE_CODE_USE_FOUNDRY',
  'CLAUDE_CODE_SKIP_BEDROCK_AUTH',
  'CLAUDE_CODE_SKIP_VERTEX_AUTH',
  'CLAUDE_CODE_SKIP_FOUNDRY_AUTH',
  'ANTHROPIC_BEDROCK_BASE_URL',
  'ANTHROPIC_VERTEX_BASE_URL',
  'ANTHROPIC_FOUNDRY_BASE_URL',
  'ANTHROPIC_VERTEX_PROJECT_ID',
  'ANTHROPIC_BEDROCK_SERVICE_TIER',
] as const;

/** Set unless the user already chose a value. */
export const QUIET_DEFAULTS: Readonly<Record<string, string>> = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  DISABLE_TELEMETRY: '1',
  DISABLE_AUTOUPDATER: '1',
  DISABLE_ERROR_REPORTING: '1',
  CLAUDE_CODE_ATTRIBUTION_HEADER: '0',
};

/** Claude Code's per-model capability names (ANTHROPIC_DEFAULT_*_MODEL_SUPPORTED_CAPABILITIES). */
export function claudeCodeCapabilities(caps: ModelCapabilities): string[] {
  const out: string[] = [];
  const kind = caps.reasoning.kind;
  if (kind !== 'none') out.push('thinking');
  if (kind === 'effort-field' || kind === 'nova') out.push('effort');
  out.push('temperature');
  return out;
}

export function claudeEnv(input: ClaudeEnvInput): Env {
  const env: Env = { ...input.base };
  for (const name of [...CLEARED_VARIABLES, ...input.credentials.cleared]) delete env[name];
  for (const [name, value] of Object.entries(QUIET_DEFAULTS)) {
    if (env[name] === undefined || env[name] === '') env[name] = value;
  }
  Object.assign(env, input.credentials.env);
  env[input.credentials.baseUrlVariable] = input.gatewayUrl;
  keepLoopbackOffProxy(env, input.gatewayUrl);

  const { model, smallModel } = input;
  if (input.credentials.baseUrlVariable === 'ANTHROPIC_BEDROCK_BASE_URL') {
    // Bedrock mode: Claude Code names Claude models by Bedrock ids or our aliases (the door resolves
    // both); there is no open-model labelling to do, the door serves only what Bedrock serves.
    if (model) env.ANTHROPIC_MODEL = model;
    if (smallModel) {
      env.ANTHROPIC_DEFAULT_HAIKU_MODEL = smallModel;
      env.ANTHROPIC_SMALL_FAST_MODEL = smallModel;
    }
    return env;
  }
  if (smallModel) {
    env.ANTHROPIC_DEFAULT_HAIKU_MODEL = smallModel;
    env.ANTHROPIC_SMALL_FAST_MODEL = smallModel;
    labelOpenModel(env, 'HAIKU', smallModel, input.capsOf);
  }
  if (!model) return offerGatewayModels(env);
  env.ANTHROPIC_MODEL = model;
  if (isClaudeLike(model)) return offerGatewayModels(env);

  // An open model: no Claude model may be reachable, so every slot Claude Code picks from gets it.
  for (const slot of ['FABLE', 'OPUS', 'SONNET'] as const) {
    env[`ANTHROPIC_DEFAULT_${slot}_MODEL`] = model;
    labelOpenModel(env, slot, model, input.capsOf);
  }
  if (!smallModel) {
    env.ANTHROPIC_DEFAULT_HAIKU_MODEL = model;
    env.ANTHROPIC_SMALL_FAST_MODEL = model;
    labelOpenModel(env, 'HAIKU', model, input.capsOf);
  }
  const caps = input.capsOf?.(model);
  if (caps) {
    const limits: Record<string, number> = {
      CLAUDE_CODE_MAX_CONTEXT_TOKENS: caps.contextWindow,
      CLAUDE_CODE_AUTO_COMPACT_WINDOW: caps.contextWindow,
      CLAUDE_CODE_MAX_OUTPUT_TOKENS: caps.maxOutputTokens,
    };
    for (const [name, value] of Object.entries(limits)) {
      if (env[name] === undefined || env[name] === '') env[name] = String(value);
    }
  }
  return env;
}

/**
 * Without this, /model offers only Claude Code's own list, names the gateway may not serve (a 404 once
 * picked); with it, Claude Code reads the gateway's GET /v1/models and adds its Claude models ("From
 * gateway"). Not for an open model: every slot is that model, and no Claude model is to be a pick away.
 */
function offerGatewayModels(env: Env): Env {
  const name = 'CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY';
  if (env[name] === undefined || env[name] === '') env[name] = '1';
  return env;
}

function labelOpenModel(
  env: Env,
  slot: 'FABLE' | 'OPUS' | 'SONNET' | 'HAIKU',
  model: string,
  capsOf: ClaudeEnvInput['capsOf'],
): void {
  if (isClaudeLike(model)) return;
  env[`ANTHROPIC_DEFAULT_${slot}_MODEL_NAME`] = model;
  env[`ANTHROPIC_DEFAULT_${slot}_MODEL_DESCRIPTION`] = 'Bedrock model through abproxy';
  const caps = capsOf?.(model);
  if (caps)
    env[`ANTHROPIC_DEFAULT_${slot}_MODEL_SUPPORTED_CAPABILITIES`] = claudeCodeCapabilities(caps).join(',');
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A proxy set in the user's shell (a corporate HTTPS_PROXY) would carry Claude Code's calls to a gateway
 * on this machine to a proxy that cannot reach it: a loopback gateway joins NO_PROXY (both spellings,
 * each the union of what was there, so neither hides the other's entries).
 */
function keepLoopbackOffProxy(env: Env, gatewayUrl: string): void {
  if (!PROXY_VARIABLES.some((name) => env[name])) return;
  const host = new URL(gatewayUrl).hostname;
  if (!LOOPBACK_HOSTS.has(host)) return;
  const entries = [env.NO_PROXY, env.no_proxy]
    .flatMap((list) => (list ?? '').split(','))
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const union = [...new Set([...entries, host])].join(',');
  env.NO_PROXY = union;
  env.no_proxy = union;
}

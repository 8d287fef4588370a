/**
 * `doctor` checks for people who run `claude` by hand with the gateway's environment (ANTHROPIC_BASE_URL
 * and a key) instead of through `abproxy claude`, which avoids both traps itself:
 * - Claude Code's first-run onboarding is not done while api.anthropic.com is unreachable: it stops at
 *   "Unable to connect to Anthropic services" and never uses ANTHROPIC_BASE_URL.
 * - ANTHROPIC_API_KEY holds a key Claude Code was told not to use (its "Detected a custom API key"
 *   question defaults to No): every prompt then says "Not logged in".
 */
import { lookup } from 'node:dns/promises';
import { apiKeyRejected, claudeConfigPath, onboardingDone, readClaudeConfig } from './claude-config-file.ts';
import type { Check, Env } from './doctor-check.ts';

export const ANTHROPIC_API_HOST = 'api.anthropic.com';
const RESOLVE_TIMEOUT_MS = 2000;

/** Why `host` cannot be resolved (e.g. ENOTFOUND, or a timeout), or undefined when it resolves. */
export type Resolver = (host: string) => Promise<string | undefined>;

export const resolveHost: Resolver = async (host) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${RESOLVE_TIMEOUT_MS / 1000} s`), RESOLVE_TIMEOUT_MS);
  });
  const answer = lookup(host).then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  return Promise.race([answer, timeout]).finally(() => clearTimeout(timer));
};

/** A proxy Claude Code would use for api.anthropic.com: then a local DNS failure proves nothing. */
function proxyFor(env: Env): string | undefined {
  return ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'].find((name) => env[name]);
}

export async function checkClaudeOnboarding(env: Env, resolve: Resolver = resolveHost): Promise<Check> {
  const name = 'claude-onboarding';
  const path = claudeConfigPath(env);
  if (onboardingDone(readClaudeConfig(path))) {
    return { name, status: 'ok', detail: `Claude Code's first-run setup is done (${path})` };
  }
  const proxy = proxyFor(env);
  if (proxy) {
    return {
      name,
      status: 'ok',
      detail: `Claude Code's first-run setup is not done yet; it reaches ${ANTHROPIC_API_HOST} through ${proxy}`,
    };
  }
  const failure = await resolve(ANTHROPIC_API_HOST);
  if (failure === undefined) {
    return {
      name,
      status: 'ok',
      detail: `Claude Code's first-run setup is not done yet; ${ANTHROPIC_API_HOST} resolves, so it can finish`,
    };
  }
  return {
    name,
    status: 'warn',
    detail: `Claude Code's first-run setup is not done (${path}) and ${ANTHROPIC_API_HOST} does not resolve (${failure}): \`claude\` started by hand stops at "Unable to connect to Anthropic services"`,
    hint: `start it with \`abproxy claude\` (which marks the setup done), or add "hasCompletedOnboarding": true to ${path}`,
  };
}

export function checkClaudeApiKey(env: Env): Check {
  const name = 'claude-api-key';
  const key = env.ANTHROPIC_API_KEY;
  if (!key) return { name, status: 'ok', detail: 'no ANTHROPIC_API_KEY in this environment' };
  const path = claudeConfigPath(env);
  if (apiKeyRejected(readClaudeConfig(path), key)) {
    return {
      name,
      status: 'warn',
      detail: `Claude Code was told not to use this ANTHROPIC_API_KEY (customApiKeyResponses.rejected in ${path}): \`claude\` started by hand says "Not logged in"`,
      hint: `give the key as ANTHROPIC_AUTH_TOKEN instead of ANTHROPIC_API_KEY (Claude Code uses it without asking; abproxy claude does this), or remove its entry from customApiKeyResponses.rejected in ${path}`,
    };
  }
  return {
    name,
    status: 'ok',
    detail:
      'ANTHROPIC_API_KEY is set and not refused; Claude Code asks once before using it (ANTHROPIC_AUTH_TOKEN avoids the question)',
  };
}

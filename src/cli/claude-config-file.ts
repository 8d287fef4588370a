/**
 * Claude Code's global config file (`~/.claude.json`): where it is, what `doctor` reads from it, and the
 * one field `abproxy claude` may add to it.
 *
 * Why the launcher touches it at all: on a first run Claude Code shows its onboarding (theme, then a
 * connectivity check against api.anthropic.com that stops with "Unable to connect to Anthropic services"
 * where that host is blocked) until `hasCompletedOnboarding` is true, whatever ANTHROPIC_BASE_URL says.
 * Claude Code 2.1.332 has no environment switch for it (its binary knows none; its docs name none), so
 * the launcher sets that one field, only when it is absent, says so, and keeps the rest of the file.
 */
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

type Env = Record<string, string | undefined>;

/**
 * The file Claude Code keeps its global state in, as 2.1.332 finds it: `.claude.json` in
 * CLAUDE_CONFIG_DIR or the home directory (`.claude-custom-oauth.json` with CLAUDE_CODE_CUSTOM_OAUTH_URL),
 * unless a non-empty legacy `.config.json` in its config directory is still in use.
 */
export function claudeConfigPath(env: Env): string {
  const home = env.HOME || homedir();
  const configDir = env.CLAUDE_CONFIG_DIR || join(home, '.claude');
  const legacy = join(configDir, '.config.json');
  try {
    const stat = statSync(legacy);
    if (stat.isFile() && stat.size > 0) return legacy;
  } catch {}
  const suffix = env.CLAUDE_CODE_CUSTOM_OAUTH_URL ? '-custom-oauth' : '';
  return join(env.CLAUDE_CONFIG_DIR || home, `.claude${suffix}.json`);
}

export type ClaudeConfig = Record<string, unknown>;

export type ClaudeConfigRead =
  | { state: 'missing' }
  | { state: 'ok'; config: ClaudeConfig }
  | { state: 'unreadable'; reason: string };

export function readClaudeConfig(path: string): ClaudeConfigRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { state: 'missing' } : { state: 'unreadable', reason: String(code ?? err) };
  }
  if (text.trim() === '') return { state: 'missing' };
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      return { state: 'unreadable', reason: 'not a JSON object' };
    return { state: 'ok', config: parsed as ClaudeConfig };
  } catch {
    return { state: 'unreadable', reason: 'not valid JSON' };
  }
}

/** Whether Claude Code will skip its first-run onboarding with this file. */
export function onboardingDone(read: ClaudeConfigRead): boolean {
  return read.state === 'ok' && read.config.hasCompletedOnboarding === true;
}

/**
 * Whether Claude Code was told not to use `apiKey` from ANTHROPIC_API_KEY: its answer to "Detected a
 * custom API key" is kept under `customApiKeyResponses.rejected` as the key's last 20 characters.
 */
export function apiKeyRejected(read: ClaudeConfigRead, apiKey: string): boolean {
  if (read.state !== 'ok') return false;
  const responses = read.config.customApiKeyResponses as { rejected?: unknown } | undefined;
  const rejected = Array.isArray(responses?.rejected) ? responses.rejected : [];
  return rejected.includes(apiKey.slice(-20));
}

export type OnboardingFix =
  | { outcome: 'marked'; path: string }
  | { outcome: 'present'; path: string }
  | { outcome: 'skipped'; path: string; reason: string };

/**
 * Sets `hasCompletedOnboarding: true` when the field is absent (a value the user or Claude Code wrote is
 * kept), calling `announce` just before it writes. Atomic (a temporary file in the same directory, then
 * rename), through a symlink to its target, with the file's mode kept (0600 for a new file, as Claude
 * Code makes it).
 */
export function markOnboardingComplete(env: Env, announce: (path: string) => void = () => {}): OnboardingFix {
  const path = claudeConfigPath(env);
  const read = readClaudeConfig(path);
  if (read.state === 'unreadable') return { outcome: 'skipped', path, reason: read.reason };
  const config = read.state === 'ok' ? read.config : {};
  if ('hasCompletedOnboarding' in config) return { outcome: 'present', path };
  const target = linkTarget(path);
  const temp = join(dirname(target), `.${basename(target)}.abproxy-${process.pid}.tmp`);
  announce(path);
  try {
    const mode = read.state === 'ok' ? statSync(target).mode & 0o777 : 0o600;
    if (read.state === 'missing') mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
    writeFileSync(temp, `${JSON.stringify({ ...config, hasCompletedOnboarding: true }, null, 2)}\n`, {
      mode,
      flag: 'wx',
    });
    chmodSync(temp, mode); // the umask may have narrowed it
    renameSync(temp, target);
    return { outcome: 'marked', path };
  } catch (err) {
    rmSync(temp, { force: true });
    return { outcome: 'skipped', path, reason: (err as Error).message };
  }
}

/** The file a symlink (e.g. from a dotfile manager) points to, so the rename keeps the link. */
function linkTarget(path: string): string {
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  } catch {
    return path;
  }
}

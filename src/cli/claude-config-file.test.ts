import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  apiKeyRejected,
  claudeConfigPath,
  markOnboardingComplete,
  onboardingDone,
  readClaudeConfig,
} from './claude-config-file.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'abproxy-claude-json-'));

describe("Claude Code's config file", () => {
  it('lives in HOME, or in CLAUDE_CONFIG_DIR when set, unless a legacy .config.json is in use', () => {
    const home = fresh();
    expect(claudeConfigPath({ HOME: home })).toBe(join(home, '.claude.json'));
    expect(claudeConfigPath({ HOME: home, CLAUDE_CONFIG_DIR: '/cfg' })).toBe('/cfg/.claude.json');
    expect(claudeConfigPath({ HOME: home, CLAUDE_CODE_CUSTOM_OAUTH_URL: 'https://x' })).toBe(
      join(home, '.claude-custom-oauth.json'),
    );
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', '.config.json'), '{}');
    expect(claudeConfigPath({ HOME: home })).toBe(join(home, '.claude', '.config.json'));
  });

  it('marks onboarding done in a missing file, mode 0600, and says so before it writes', () => {
    const home = fresh();
    const said: boolean[] = [];
    const fix = markOnboardingComplete({ HOME: home }, (path) => {
      said.push(existsSync(path));
    });
    expect(said).toEqual([false]);
    expect(fix).toEqual({ outcome: 'marked', path: join(home, '.claude.json') });
    expect(JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8'))).toEqual({
      hasCompletedOnboarding: true,
    });
    expect(statSync(join(home, '.claude.json')).mode & 0o777).toBe(0o600);
  });

  it('keeps the rest of an existing file and its mode, and leaves no temporary file behind', () => {
    const home = fresh();
    const file = join(home, '.claude.json');
    const before = { numStartups: 3, projects: { '/x': { allowedTools: ['Bash'] } }, theme: 'dark' };
    writeFileSync(file, JSON.stringify(before), { mode: 0o640 });
    expect(markOnboardingComplete({ HOME: home }).outcome).toBe('marked');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...before, hasCompletedOnboarding: true });
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(home)).toEqual(['.claude.json']);
  });

  it('never changes a value that is there, even false', () => {
    const home = fresh();
    const file = join(home, '.claude.json');
    writeFileSync(file, '{"hasCompletedOnboarding":false}');
    let said = false;
    expect(
      markOnboardingComplete({ HOME: home }, () => {
        said = true;
      }).outcome,
    ).toBe('present');
    expect(said).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('{"hasCompletedOnboarding":false}');
  });

  it('leaves a file it cannot parse alone', () => {
    const home = fresh();
    const file = join(home, '.claude.json');
    writeFileSync(file, '{"half": ');
    expect(markOnboardingComplete({ HOME: home })).toMatchObject({
      outcome: 'skipped',
      reason: 'not valid JSON',
    });
    expect(readFileSync(file, 'utf8')).toBe('{"half": ');
  });

  it('writes through a symlink to its target and keeps the link', () => {
    const home = fresh();
    const dotfiles = fresh();
    writeFileSync(join(dotfiles, 'claude.json'), '{"theme":"light"}');
    symlinkSync(join(dotfiles, 'claude.json'), join(home, '.claude.json'));
    expect(markOnboardingComplete({ HOME: home }).outcome).toBe('marked');
    expect(JSON.parse(readFileSync(join(dotfiles, 'claude.json'), 'utf8'))).toEqual({
      theme: 'light',
      hasCompletedOnboarding: true,
    });
    expect(onboardingDone(readClaudeConfig(join(home, '.claude.json')))).toBe(true);
  });

  it('finds a key Claude Code was told not to use by its last 20 characters', () => {
    const home = fresh();
    const file = join(home, '.claude.json');
    const key = 'abp_dummy_key_0123456789abcdefghijXYZ';
    writeFileSync(
      file,
      JSON.stringify({ customApiKeyResponses: { approved: [], rejected: [key.slice(-20)] } }),
    );
    expect(apiKeyRejected(readClaudeConfig(file), key)).toBe(true);
    expect(apiKeyRejected(readClaudeConfig(file), 'abp_other_key_00000000000000000000000')).toBe(false);
    expect(apiKeyRejected(readClaudeConfig(join(home, 'missing.json')), key)).toBe(false);
  });
});

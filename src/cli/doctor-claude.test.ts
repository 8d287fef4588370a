import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkClaudeApiKey, checkClaudeOnboarding, type Resolver } from './doctor-claude.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'abproxy-doctor-claude-'));
const unresolvable: Resolver = async () => 'ENOTFOUND';
const resolvable: Resolver = async () => undefined;
const KEY = 'abp_dummy_key_0123456789abcdefghijXYZ';

describe('doctor: Claude Code run by hand', () => {
  it('warns when onboarding is not done and api.anthropic.com does not resolve, with the fix', async () => {
    const home = fresh();
    const check = await checkClaudeOnboarding({ HOME: home }, unresolvable);
    expect(check.status).toBe('warn');
    expect(check.detail).toContain('ENOTFOUND');
    expect(check.hint).toContain('abproxy claude');
    expect(check.hint).toContain(`"hasCompletedOnboarding": true to ${join(home, '.claude.json')}`);
  });

  it('is content when onboarding is done, when the host resolves, or when a proxy reaches it', async () => {
    const done = fresh();
    writeFileSync(join(done, '.claude.json'), '{"hasCompletedOnboarding":true}');
    let asked = false;
    const spy: Resolver = async () => {
      asked = true;
      return 'ENOTFOUND';
    };
    expect((await checkClaudeOnboarding({ HOME: done }, spy)).status).toBe('ok');
    expect(asked).toBe(false);
    expect((await checkClaudeOnboarding({ HOME: fresh() }, resolvable)).status).toBe('ok');
    const viaProxy = await checkClaudeOnboarding({ HOME: fresh(), HTTPS_PROXY: 'http://proxy:3128' }, spy);
    expect(viaProxy.status).toBe('ok');
    expect(asked).toBe(false);
  });

  it('reads the file Claude Code uses under CLAUDE_CONFIG_DIR', async () => {
    const dir = fresh();
    writeFileSync(join(dir, '.claude.json'), '{"hasCompletedOnboarding":true}');
    expect(
      (await checkClaudeOnboarding({ HOME: fresh(), CLAUDE_CONFIG_DIR: dir }, unresolvable)).status,
    ).toBe('ok');
  });

  it('warns about an ANTHROPIC_API_KEY Claude Code was told not to use, without printing any of it', () => {
    const home = fresh();
    writeFileSync(
      join(home, '.claude.json'),
      JSON.stringify({ customApiKeyResponses: { approved: [], rejected: [KEY.slice(-20)] } }),
    );
    const check = checkClaudeApiKey({ HOME: home, ANTHROPIC_API_KEY: KEY });
    expect(check.status).toBe('warn');
    expect(check.detail).toContain('Not logged in');
    expect(check.hint).toContain('ANTHROPIC_AUTH_TOKEN');
    expect(JSON.stringify(check)).not.toContain(KEY.slice(-8));
    expect(checkClaudeApiKey({ HOME: home, ANTHROPIC_API_KEY: `${KEY}-other` }).status).toBe('ok');
    expect(checkClaudeApiKey({ HOME: home }).status).toBe('ok');
  });
});

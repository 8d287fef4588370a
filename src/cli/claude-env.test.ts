import { describe, expect, it } from 'vitest';
import { capabilitiesFor } from '../models/capabilities.ts';
import { CREDENTIAL_VARIABLES, credentialRoute } from './claude-credentials.ts';
import { CLEARED_VARIABLES, claudeCodeCapabilities, claudeEnv } from './claude-env.ts';

const base = {
  PATH: '/usr/bin',
  CLAUDE_CODE_USE_BEDROCK: '1',
  CLAUDE_CODE_USE_VERTEX: '1',
  ANTHROPIC_AUTH_TOKEN: 'stale',
  ANTHROPIC_API_KEY: 'sk-ant-real-anthropic-key',
  ANTHROPIC_BASE_URL: 'https://api.anthropic.com',
};
const gateway = {
  gatewayUrl: 'http://127.0.0.1:4000',
  credentials: credentialRoute({ kind: 'gateway-key', key: 'abp_local' }),
};

describe('claudeEnv', () => {
  it('keeps a gateway on this machine off the shell’s proxy, and NO_PROXY as it was otherwise', () => {
    const proxied = { ...base, HTTPS_PROXY: 'http://proxy.corp:3128', no_proxy: '.corp.example' };
    const env = claudeEnv({ base: proxied, ...gateway });
    expect(env.NO_PROXY).toBe('.corp.example,127.0.0.1');
    expect(env.no_proxy).toBe('.corp.example,127.0.0.1');
    // A gateway elsewhere may need the proxy; without a proxy nothing changes.
    const remote = claudeEnv({ base: proxied, ...gateway, gatewayUrl: 'https://gw.corp.example' });
    expect([remote.NO_PROXY, remote.no_proxy]).toEqual([undefined, '.corp.example']);
    expect(claudeEnv({ base, ...gateway }).NO_PROXY).toBeUndefined();
  });

  it('points Claude Code at the gateway and removes what would send it elsewhere', () => {
    const env = claudeEnv({ base, ...gateway });
    expect(env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:4000');
    // A bearer token: Claude Code asks the user before it uses an ANTHROPIC_API_KEY.
    expect(env.ANTHROPIC_AUTH_TOKEN).toBe('abp_local');
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    for (const name of CLEARED_VARIABLES) expect(env[name], name).toBeUndefined();
    for (const name of CREDENTIAL_VARIABLES.filter((n) => n !== 'ANTHROPIC_AUTH_TOKEN'))
      expect(env[name], name).toBeUndefined();
    expect(env.PATH).toBe('/usr/bin');
    expect(env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1');
    expect(env.ANTHROPIC_MODEL).toBeUndefined();
    // The caller's env is not touched.
    expect(base.ANTHROPIC_AUTH_TOKEN).toBe('stale');
  });

  it('sets only ANTHROPIC_MODEL for a Claude model, so the other Claude slots keep their defaults', () => {
    const env = claudeEnv({ base, ...gateway, model: 'claude-sonnet-4-5' });
    expect(env.ANTHROPIC_MODEL).toBe('claude-sonnet-4-5');
    expect(env.ANTHROPIC_DEFAULT_OPUS_MODEL).toBeUndefined();
    expect(env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBeUndefined();
  });

  it('fills every slot with an open model and tells Claude Code its limits and capabilities', () => {
    const model = 'openai.gpt-oss-120b-1:0';
    const caps = capabilitiesFor(model);
    const env = claudeEnv({ base, ...gateway, model, capsOf: capabilitiesFor });
    // FABLE: the newest slot Claude Code 2.1.332 lists in /model (a Claude model otherwise).
    for (const slot of ['FABLE', 'OPUS', 'SONNET', 'HAIKU']) {
      expect(env[`ANTHROPIC_DEFAULT_${slot}_MODEL`]).toBe(model);
      expect(env[`ANTHROPIC_DEFAULT_${slot}_MODEL_SUPPORTED_CAPABILITIES`]).toBe(
        'thinking,effort,temperature',
      );
    }
    expect(env.ANTHROPIC_SMALL_FAST_MODEL).toBe(model);
    expect(env.CLAUDE_CODE_MAX_CONTEXT_TOKENS).toBe(String(caps.contextWindow));
    expect(env.CLAUDE_CODE_AUTO_COMPACT_WINDOW).toBe(String(caps.contextWindow));
    expect(env.CLAUDE_CODE_MAX_OUTPUT_TOKENS).toBe(String(caps.maxOutputTokens));
  });

  it('keeps limits the user set and a separate small model', () => {
    const env = claudeEnv({
      base: { ...base, CLAUDE_CODE_MAX_OUTPUT_TOKENS: '4096' },
      ...gateway,
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      smallModel: 'qwen.qwen3-32b-v1:0',
      capsOf: capabilitiesFor,
    });
    expect(env.CLAUDE_CODE_MAX_OUTPUT_TOKENS).toBe('4096');
    expect(env.ANTHROPIC_DEFAULT_HAIKU_MODEL).toBe('qwen.qwen3-32b-v1:0');
    expect(env.ANTHROPIC_SMALL_FAST_MODEL).toBe('qwen.qwen3-32b-v1:0');
  });

  it("has /model offer the gateway's Claude models, except when an open model fills every slot", () => {
    const discovery = 'CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY';
    expect(claudeEnv({ base, ...gateway })[discovery]).toBe('1');
    expect(claudeEnv({ base, ...gateway, model: 'claude-opus-4-6' })[discovery]).toBe('1');
    expect(claudeEnv({ base, ...gateway, model: 'qwen.qwen3-32b-v1:0' })[discovery]).toBeUndefined();
    // The user's own choice wins.
    expect(claudeEnv({ base: { ...base, [discovery]: '0' }, ...gateway })[discovery]).toBe('0');
  });

  it('claims thinking only for models that reason', () => {
    expect(claudeCodeCapabilities(capabilitiesFor('qwen.qwen3-coder-480b-a35b-v1:0'))).toEqual([
      'temperature',
    ]);
    expect(
      claudeCodeCapabilities(capabilitiesFor('us.amazon.nova-2-lite-v1:0'.replace('us.', ''))),
    ).toContain('thinking');
  });
});

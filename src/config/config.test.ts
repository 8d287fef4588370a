import { createHmac, scryptSync } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  authRequired,
  ConfigError,
  defaultSettings,
  isLoopbackHost,
  resolveConfig,
  weakSigningSecretWarning,
} from './config.ts';
import { defaultHome } from './home.ts';
import { loadConfig } from './load.ts';
import { resolveSigningSecret } from './secret.ts';

const defaults = defaultSettings('/tmp/abproxy-home');

describe('resolveConfig', () => {
  it('takes flags over env over file over defaults and reports each source', () => {
    const config = resolveConfig({
      flags: { port: '9001' },
      env: { ABPROXY_PORT: '9002', ABPROXY_HOST: '127.0.0.2', LOG_LEVEL: 'debug' },
      file: { port: 9003, host: '127.0.0.3', region: 'eu-west-1' },
      defaults,
    });
    expect(config.port).toBe(9001);
    expect(config.sources.port).toBe('flag');
    expect(config.host).toBe('127.0.0.2');
    expect(config.sources.host).toBe('env');
    expect(config.region).toBe('eu-west-1');
    expect(config.sources.region).toBe('file');
    expect(config.maxBodyBytes).toBe(32 * 1024 * 1024);
    expect(config.sources.maxBodyBytes).toBe('default');
    expect(config.logLevel).toBe('debug');
  });

  it('names a bad flag as it is typed', () => {
    expect(() => resolveConfig({ flags: { tablePrefix: 'bad prefix!' }, defaults })).toThrow(
      /^--table-prefix: /,
    );
  });

  it('accepts the seed converter names and aliases', () => {
    const config = resolveConfig({
      env: {
        PORT: '7000',
        AWS_DEFAULT_REGION: 'us-west-2',
        REQUIRE_API_KEY: 'False',
        PROMPT_CACHING_ENABLED: 'false',
        ENABLE_EXTENDED_THINKING: '0',
        DEFAULT_SERVICE_TIER: 'Flex',
        API_KEY_HEADER: 'X-Gateway-Key',
        ABPROXY_MODEL_MAP: '{"claude-opus-5-5":"qwen.qwen3-coder-480b-a35b-v1:0"}',
      },
      defaults,
    });
    expect(config.port).toBe(7000);
    expect(config.region).toBe('us-west-2');
    expect(config.requireApiKey).toBe(false);
    expect(config.promptCachingEnabled).toBe(false);
    expect(config.enableExtendedThinking).toBe(false);
    expect(config.defaultServiceTier).toBe('flex');
    expect(config.apiKeyHeader).toBe('x-gateway-key');
    expect(config.modelMap).toEqual({ 'claude-opus-5-5': 'qwen.qwen3-coder-480b-a35b-v1:0' });
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION and ignores empty variables', () => {
    const config = resolveConfig({ env: { AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-south-1' }, defaults });
    expect(config.region).toBe('ap-south-1');
    expect(
      resolveConfig({ env: { AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'x' }, defaults }).region,
    ).toBe('eu-central-1');
  });

  it('names the variable in parse errors', () => {
    expect(() => resolveConfig({ env: { ABPROXY_PORT: 'eighty' }, defaults })).toThrow(/ABPROXY_PORT/);
    for (const bad of ['us east 1', '-', 'US-EAST-1', 'us-east-1/']) {
      expect(() => resolveConfig({ env: { AWS_REGION: bad }, defaults }), bad).toThrow(
        /AWS_REGION: expected an AWS region like us-east-1/,
      );
    }
    for (const good of ['us-east-1', 'us-gov-west-1', 'cn-northwest-1', 'local']) {
      expect(resolveConfig({ env: { AWS_REGION: good }, defaults }).region).toBe(good);
    }
    expect(() => resolveConfig({ env: { ABPROXY_MODEL_MAP: '{nope' }, defaults })).toThrow(
      /ABPROXY_MODEL_MAP/,
    );
    expect(() => resolveConfig({ env: { ENABLE_TOOL_USE: 'maybe' }, defaults })).toThrow(ConfigError);
    // Integers are decimal: hex, exponents and binary are a mistake, not a number.
    for (const port of ['0x10', '1e3', '0b11', '80.5'])
      expect(() => resolveConfig({ env: { ABPROXY_PORT: port }, defaults }), port).toThrow(/ABPROXY_PORT/);
    expect(resolveConfig({ env: { ABPROXY_PORT: ' 8081 ' }, defaults }).port).toBe(8081);
  });

  it('does not echo a secret of the wrong type from the config file', () => {
    const file = { masterApiKey: 73219845012, signingSecret: ['s3cr3t-value'] };
    expect(() => resolveConfig({ file: { masterApiKey: file.masterApiKey }, defaults })).toThrow(
      /masterApiKey: expected a string, got number$/,
    );
    expect(() => resolveConfig({ file: { signingSecret: file.signingSecret }, defaults })).not.toThrow(
      /s3cr3t/,
    );
  });
});

describe('allowed origins', () => {
  const origins = (raw: unknown, from: 'env' | 'file' = 'env') =>
    resolveConfig({
      env: from === 'env' ? { ABPROXY_ALLOWED_ORIGINS: raw as string } : {},
      file: from === 'file' ? { allowedOrigins: raw } : {},
      defaults: defaultSettings('/tmp/h'),
    }).allowedOrigins;

  it('is empty by default and reads a comma list or a JSON array', () => {
    expect(resolveConfig({ defaults: defaultSettings('/tmp/h') }).allowedOrigins).toEqual([]);
    expect(origins(' https://App.example.com/ , http://localhost:3000')).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
    expect(origins(['https://a.example'], 'file')).toEqual(['https://a.example']);
  });

  it('refuses what is not an exact origin: wildcards, paths, null', () => {
    for (const bad of ['*', 'https://a.example/path', 'null', 'a.example', 'https://*.example.com']) {
      expect(() => origins(bad), bad).toThrow(/ABPROXY_ALLOWED_ORIGINS: .* is not an origin/);
    }
  });
});

describe('auth floor', () => {
  it('allows no key only on loopback', () => {
    expect(authRequired({ host: '127.0.0.1', masterApiKey: undefined, requireApiKey: undefined })).toBe(
      false,
    );
    expect(authRequired({ host: '0.0.0.0', masterApiKey: 'k', requireApiKey: undefined })).toBe(true);
    expect(() => authRequired({ host: '0.0.0.0', masterApiKey: undefined, requireApiKey: false })).toThrow(
      /MASTER_API_KEY/,
    );
  });

  it('knows loopback names', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', 'example.com', '10.0.0.1', '127.0.0.1.evil.com']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });
});

describe('files and secrets', () => {
  it('finds the home dir from XDG_CONFIG_HOME', () => {
    expect(defaultHome({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/abproxy');
    expect(defaultHome({ HOME: '/h' }, 'linux')).toBe('/h/.config/abproxy');
  });

  it('reads the config file in ABPROXY_HOME and an explicit --config file', () => {
    const home = mkdtempSync(join(tmpdir(), 'abproxy-cfg-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ port: 5555, region: 'eu-west-3' }));
    const config = loadConfig({ env: { ABPROXY_HOME: home } });
    expect(config.port).toBe(5555);
    expect(config.sources.port).toBe('file');
    const other = join(home, 'other.json');
    writeFileSync(other, JSON.stringify({ port: 6666 }));
    expect(loadConfig({ env: { ABPROXY_HOME: home }, configFile: other }).port).toBe(6666);
    expect(() => loadConfig({ env: { ABPROXY_HOME: home }, configFile: join(home, 'missing.json') })).toThrow(
      /cannot read config file/,
    );
  });

  it("takes a setting's env name in the file, as `config set` does, and refuses keys that are no setting", () => {
    const home = mkdtempSync(join(tmpdir(), 'abproxy-cfg-'));
    writeFileSync(join(home, 'config.json'), JSON.stringify({ MASTER_API_KEY: 's3cret-master', port: 7777 }));
    const config = loadConfig({ env: { ABPROXY_HOME: home } });
    expect(config.masterApiKey).toBe('s3cret-master');
    expect(config.sources.masterApiKey).toBe('file');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ prot: 9000, port: 7777 }));
    expect(() => loadConfig({ env: { ABPROXY_HOME: home } })).toThrow(/unknown setting 'prot'/);
  });

  it('derives the signing secret from the master key, else persists a random one with mode 0600', async () => {
    const a = await resolveSigningSecret({
      signingSecret: undefined,
      masterApiKey: 'key-1',
      home: '/nonexistent',
    });
    const b = await resolveSigningSecret({
      signingSecret: undefined,
      masterApiKey: 'key-2',
      home: '/nonexistent',
    });
    expect(a).not.toBe(b);
    expect(a).not.toContain('key-1');
    // Every instance sharing the key agrees.
    expect(
      await resolveSigningSecret({ signingSecret: undefined, masterApiKey: 'key-1', home: '/other' }),
    ).toBe(a);
    const home = join(mkdtempSync(join(tmpdir(), 'abproxy-sec-')), 'nested');
    const first = await resolveSigningSecret({ signingSecret: undefined, masterApiKey: undefined, home });
    const second = await resolveSigningSecret({ signingSecret: undefined, masterApiKey: undefined, home });
    expect(second).toBe(first);
    expect(readFileSync(join(home, 'secret'), 'utf8').trim()).toBe(first);
    expect(statSync(join(home, 'secret')).mode & 0o777).toBe(0o600);
  });

  it('the secret derived from the master key costs a guesser scrypt, not one HMAC (red team: 200,000 guesses/s)', async () => {
    const master = 'sk-master-redteam-0123456789';
    const secret = await resolveSigningSecret({ signingSecret: undefined, masterApiKey: master, home: '/x' });
    // The old derivation, which a thinking signature let any key holder check guesses against.
    expect(secret).not.toBe(
      createHmac('sha256', master).update('abproxy thinking signatures v1').digest('base64url'),
    );
    const stretched = scryptSync(master, 'abproxy signing secret v2', 32, {
      N: 2 ** 15,
      r: 8,
      p: 1,
      maxmem: 2 ** 26,
    });
    expect(secret).toBe(stretched.toString('base64url'));
  });

  it('warns about a short master key only when the signing secret comes from it', () => {
    expect(
      weakSigningSecretWarning({ signingSecret: undefined, masterApiKey: 'sk-master-redteam-0123456789' }),
    ).toMatch(/MASTER_API_KEY has 28 characters.*ABPROXY_SIGNING_SECRET/);
    expect(
      weakSigningSecretWarning({ signingSecret: undefined, masterApiKey: 'x'.repeat(32) }),
    ).toBeUndefined();
    expect(
      weakSigningSecretWarning({ signingSecret: 'y'.repeat(43), masterApiKey: 'short' }),
    ).toBeUndefined();
    expect(weakSigningSecretWarning({ signingSecret: undefined, masterApiKey: undefined })).toBeUndefined();
  });

  it('never uses an empty or cut secret file (a full disk, a crash): it is replaced', async () => {
    for (const content of ['', 'short\n']) {
      const home = mkdtempSync(join(tmpdir(), 'abproxy-sec-'));
      writeFileSync(join(home, 'secret'), content, { mode: 0o600 });
      const secret = await resolveSigningSecret({ signingSecret: undefined, masterApiKey: undefined, home });
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(join(home, 'secret'), 'utf8').trim()).toBe(secret);
      expect(statSync(join(home, 'secret')).mode & 0o777).toBe(0o600);
      expect(await resolveSigningSecret({ signingSecret: undefined, masterApiKey: undefined, home })).toBe(
        secret,
      );
    }
  });
});

describe('sign-in settings', () => {
  it('reads policies from JSON or a file and names the entry and field of a mistake', () => {
    const good = { policies: [{ name: 'ml', groups: ['ml'], serviceTier: 'priority' }] };
    const fromEnv = resolveConfig({ env: { ABPROXY_POLICIES: JSON.stringify(good) }, defaults });
    expect(fromEnv.policies?.policies[0]?.name).toBe('ml');
    const path = join(mkdtempSync(join(tmpdir(), 'abproxy-policies-')), 'policies.json');
    writeFileSync(path, JSON.stringify({ policies: [{ name: 'ml', groups: ['ml'], serviceTier: 'turbo' }] }));
    expect(() => resolveConfig({ env: { ABPROXY_POLICIES: path }, defaults })).toThrow(
      /ABPROXY_POLICIES \(.*policies\.json\): policies\[0\] \(ml\)\.serviceTier: expected one of/,
    );
    expect(() => resolveConfig({ env: { ABPROXY_POLICIES: '/nope/policies.json' }, defaults })).toThrow(
      /cannot read the policies file/,
    );
    expect(() => resolveConfig({ file: { policies: { base: { rpm: 1 } } }, defaults })).toThrow(
      /base\.rpm: unknown field/,
    );
  });

  it('parses the IdP settings', () => {
    const config = resolveConfig({
      env: {
        ABPROXY_OIDC_ISSUER: 'https://idp.example/realms/x/',
        ABPROXY_OIDC_ALLOWED_DOMAINS: 'Corp.example, other.example',
        ABPROXY_PUBLIC_URL: 'https://gw.example/',
      },
      defaults,
    });
    expect(config.oidcIssuer).toBe('https://idp.example/realms/x/');
    expect(config.oidcAllowedDomains).toEqual(['corp.example', 'other.example']);
    expect(config.publicUrl).toBe('https://gw.example');
    expect(config.oidcGroupsClaim).toBe('groups');
    expect(() => resolveConfig({ env: { ABPROXY_PUBLIC_URL: 'ftp://x' }, defaults })).toThrow(
      /ABPROXY_PUBLIC_URL/,
    );
  });
});

describe('Claude paths', () => {
  it('takes messages and mantle, per-model globs and the mantle endpoint', () => {
    const config = resolveConfig({
      env: {
        ABPROXY_CLAUDE_PATH: 'messages',
        ABPROXY_CLAUDE_PATHS: '{"*opus-5-5*": "mantle"}',
        AWS_ENDPOINT_URL_BEDROCK_MANTLE: 'http://127.0.0.1:4000/',
      },
      defaults,
    });
    expect(config.claudePath).toBe('messages');
    expect(config.claudePaths).toEqual({ '*opus-5-5*': 'mantle' });
    expect(config.mantleEndpoint).toBe('http://127.0.0.1:4000');
  });

  it('an unknown path in the per-model map names the entry', () => {
    expect(() => resolveConfig({ env: { ABPROXY_CLAUDE_PATHS: '{"*opus*": "bedrock"}' }, defaults })).toThrow(
      /ABPROXY_CLAUDE_PATHS\.\*opus\*: expected one of invoke, converse, messages, mantle/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { baseModelId, modelIdFor, modelIdForUpstream, parseStrategies, parseUpstreams } from './upstreams.ts';

const parse = (value: unknown) => parseUpstreams(JSON.stringify(value), 'ABPROXY_UPSTREAMS');

describe('parseUpstreams', () => {
  it('reads every credentials form and the optional fields', () => {
    const list = parse([
      { name: 'primary', region: 'us-east-1' },
      { name: 'eu', region: 'eu-west-1', credentials: { profile: 'eu' }, weight: 2, profilePrefix: 'eu' },
      {
        name: 'role',
        region: 'us-west-2',
        credentials: { roleArn: 'arn:aws:iam::123456789012:role/b', externalId: 'x' },
      },
      { name: 'key', region: 'us-east-2', credentials: { bearerToken: 'tok' }, models: ['anthropic.*'] },
      {
        name: 'static',
        region: 'ap-northeast-1',
        endpoint: 'http://127.0.0.1:1',
        controlEndpoint: 'http://127.0.0.1:2',
        credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' },
      },
    ]);
    expect(list.map((u) => u.credentials)).toEqual([
      'default',
      { profile: 'eu' },
      { roleArn: 'arn:aws:iam::123456789012:role/b', externalId: 'x' },
      { bearerToken: 'tok' },
      { accessKeyId: 'AK', secretAccessKey: 'SK' },
    ]);
    // What `config set` writes to the file is the parsed list: it must parse again, unchanged.
    expect(parseUpstreams(list, 'config file: upstreams')).toEqual(list);
    expect(list[1]).toMatchObject({ weight: 2, profilePrefix: 'eu' });
    expect(list[4]).toMatchObject({ endpoint: 'http://127.0.0.1:1', controlEndpoint: 'http://127.0.0.1:2' });
  });

  it.each([
    [[], 'ABPROXY_UPSTREAMS: expected a non-empty JSON list'],
    [[{ region: 'us-east-1' }], 'ABPROXY_UPSTREAMS[0].name: expected a non-empty string'],
    [[{ name: 'a', region: 'Virginia' }], 'ABPROXY_UPSTREAMS[0] (a).region: expected an AWS region'],
    [
      [{ name: 'a', region: 'us-east-1', weight: 0 }],
      'ABPROXY_UPSTREAMS[0] (a).weight: expected a positive number',
    ],
    [
      [{ name: 'a', region: 'us-east-1', endpoint: 'ftp://x' }],
      'ABPROXY_UPSTREAMS[0] (a).endpoint: expected an http(s) URL',
    ],
    [
      [{ name: 'a', region: 'us-east-1', profilePrefix: 'mars' }],
      'ABPROXY_UPSTREAMS[0] (a).profilePrefix: expected one of',
    ],
    [[{ name: 'a', region: 'us-east-1', regoin: 'x' }], 'ABPROXY_UPSTREAMS[0] (a).regoin: unknown field'],
    [
      [{ name: 'a', region: 'us-east-1', credentials: { roleArn: 'role/x' } }],
      '(a).credentials.roleArn: expected an IAM role ARN',
    ],
    [
      [{ name: 'a', region: 'us-east-1', credentials: { accessKeyId: 'AK' } }],
      '(a).credentials.secretAccessKey: expected',
    ],
    [
      [
        { name: 'a', region: 'us-east-1' },
        { name: 'a', region: 'us-west-2' },
      ],
      'ABPROXY_UPSTREAMS[1].name: "a" is used twice',
    ],
  ])('%j is refused, naming the entry and field', (value, message) => {
    expect(() => parse(value)).toThrow(message);
  });

  it('never echoes a secret in an error', () => {
    const fn = () =>
      parse([{ name: 'a', region: 'us-east-1', credentials: { bearerToken: 'tok', profile: 'p' } }]);
    expect(fn).toThrow('credentials.bearerToken: not allowed with profile');
    expect(fn).not.toThrow(/tok\b(?!en)/);
  });

  it('bad JSON says so', () => {
    expect(() => parseUpstreams('[{', 'ABPROXY_UPSTREAMS')).toThrow('ABPROXY_UPSTREAMS: not valid JSON');
  });
});

describe('inference-profile prefixes', () => {
  it('swaps or strips the prefix and leaves ARNs alone', () => {
    expect(baseModelId('us.anthropic.claude-x')).toBe('anthropic.claude-x');
    expect(modelIdFor('global.anthropic.claude-x', 'eu')).toBe('eu.anthropic.claude-x');
    expect(modelIdFor('us.anthropic.claude-x', 'none')).toBe('anthropic.claude-x');
    expect(modelIdFor('anthropic.claude-x', undefined)).toBe('anthropic.claude-x');
    expect(modelIdFor('arn:aws:bedrock:us-east-1:1:inference-profile/x', 'eu')).toMatch(/^arn:/);
  });

  it('without profilePrefix, an upstream calls geographic profiles of its own geography', () => {
    expect(modelIdForUpstream('us.anthropic.claude-x', 'eu-west-1', undefined)).toBe('eu.anthropic.claude-x');
    expect(modelIdForUpstream('us.anthropic.claude-x', 'ap-northeast-1', undefined)).toBe(
      'apac.anthropic.claude-x',
    );
    expect(modelIdForUpstream('us.anthropic.claude-x', 'us-west-2', undefined)).toBe('us.anthropic.claude-x');
    expect(modelIdForUpstream('global.anthropic.claude-x', 'eu-west-1', undefined)).toBe(
      'global.anthropic.claude-x',
    );
    expect(modelIdForUpstream('qwen.qwen3', 'eu-west-1', undefined)).toBe('qwen.qwen3');
    expect(modelIdForUpstream('us.anthropic.claude-x', 'eu-west-1', 'global')).toBe(
      'global.anthropic.claude-x',
    );
  });
});

describe('parseStrategies', () => {
  it('reads glob → strategy from JSON text or an object', () => {
    expect(parseStrategies('{"*haiku*": "weighted", "*": "failover"}', 'S')).toEqual({
      '*haiku*': 'weighted',
      '*': 'failover',
    });
    expect(parseStrategies({ 'amazon.*': 'weighted' }, 'S')).toEqual({ 'amazon.*': 'weighted' });
    expect(parseStrategies(undefined, 'S')).toBeUndefined();
  });

  it('names the entry that is wrong', () => {
    expect(() => parseStrategies('{"*haiku*": "roundrobin"}', 'ABPROXY_UPSTREAM_STRATEGIES')).toThrow(
      'ABPROXY_UPSTREAM_STRATEGIES["*haiku*"]: expected one of failover, weighted, got "roundrobin"',
    );
    expect(() => parseStrategies('["weighted"]', 'S')).toThrow(/S: expected a JSON object/);
    expect(() => parseStrategies('{', 'S')).toThrow(/S: not valid JSON/);
  });
});

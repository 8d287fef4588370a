import { describe, expect, it } from 'vitest';
import {
  availableModelGlobs,
  canonicalJson,
  matchPolicy,
  parsePolicies,
  policyByName,
  settingsChecksum,
} from './policies.ts';

const doc = {
  policies: [
    { name: 'ml', groups: ['ml'], models: ['claude-*'], serviceTier: 'priority', monthlyBudgetUsd: 50 },
    { name: 'corp', emailDomains: ['@Corp.example'], requestsPerMinute: 10, tokensPerMinute: 1000 },
  ],
  base: { models: ['qwen.*'], settings: { availableModels: ['sonnet'] } },
};

describe('parsePolicies', () => {
  it('reads the list, the base and their limits', () => {
    const set = parsePolicies(doc);
    expect(set.policies.map((p) => p.name)).toEqual(['ml', 'corp']);
    expect(set.policies[0]).toMatchObject({ serviceTier: 'priority', limits: { budgetUsd: 50 } });
    expect(set.policies[1]).toMatchObject({
      emailDomains: ['corp.example'],
      limits: { requestsPerMinute: 10 },
    });
    expect(set.base?.name).toBe('base');
    expect(parsePolicies([doc.policies[0]]).policies).toHaveLength(1);
  });

  it.each([
    [
      { policies: [{ name: 'a', groups: ['g'], serviceTier: 'turbo' }] },
      /^policies\[0\] \(a\)\.serviceTier: expected one of/,
    ],
    [
      {
        policies: [
          { name: 'a', groups: ['g'] },
          { name: 'b', groups: ['g'], requestsPerMinute: 1.5 },
        ],
      },
      /^policies\[1\] \(b\)\.requestsPerMinute/,
    ],
    [{ policies: [{ groups: ['g'] }] }, /^policies\[0\]\.name/],
    [{ policies: [{ name: 'a' }] }, /give groups or emailDomains/],
    [{ policies: [{ name: 'a', groups: ['g'], modelz: [] }] }, /^policies\[0\]\.modelz: unknown field/],
    [
      {
        policies: [
          { name: 'a', groups: ['g'] },
          { name: 'a', groups: ['h'] },
        ],
      },
      /'a' is used twice/,
    ],
    [{ base: { groups: ['g'] } }, /^base \(base\): the base policy matches everyone/],
    [{ base: { settings: { availableModels: 'sonnet' } } }, /^base \(base\)\.settings\.availableModels/],
    [{ policy: [] }, /^policy: unknown field/],
  ])('names the entry and field of a mistake (%#)', (raw, message) => {
    expect(() => parsePolicies(raw)).toThrow(message);
  });
});

describe('matchPolicy', () => {
  const set = parsePolicies(doc);
  it('takes the first match by group or email domain, else the base', () => {
    expect(matchPolicy(set, { email: 'a@corp.example', groups: ['ml'] })?.name).toBe('ml');
    expect(matchPolicy(set, { email: 'a@CORP.example', groups: [] })?.name).toBe('corp');
    expect(matchPolicy(set, { email: 'a@else.example', groups: ['x'] })?.name).toBe('base');
    expect(matchPolicy({ policies: set.policies }, { email: 'a@else.example', groups: [] })).toBeUndefined();
    expect(policyByName(set, 'corp')?.name).toBe('corp');
    expect(policyByName(set, 'base')).toBe(set.base);
    expect(policyByName(set, 'gone')).toBeUndefined();
  });
});

describe('settings checksum', () => {
  it('hashes the settings with sorted keys and no whitespace', () => {
    expect(canonicalJson({ b: [1, { d: 1, c: 'x' }], a: true })).toBe('{"a":true,"b":[1,{"c":"x","d":1}]}');
    // sha256 of '{"a":1}'
    expect(settingsChecksum({ a: 1 })).toBe(
      'sha256:015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
    );
    expect(settingsChecksum({ b: 2, a: 1 })).toBe(settingsChecksum({ a: 1, b: 2 }));
  });

  it('turns availableModels into globs', () => {
    expect(availableModelGlobs({ availableModels: ['sonnet', 'claude-opus-*'] })).toEqual([
      '*sonnet*',
      'claude-opus-*',
    ]);
    expect(availableModelGlobs({})).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { PolicyError, parsePolicies } from './policies.ts';

describe('policies: web search rules', () => {
  it('carry webSearch and webSearchesPerDay into the limits people get', () => {
    const set = parsePolicies({
      policies: [{ name: 'contractors', groups: ['ext'], webSearch: false }],
      base: { webSearch: true, webSearchesPerDay: 50 },
    });
    expect(set.policies[0]!.limits).toEqual({ webTools: false });
    expect(set.base!.limits).toEqual({ webSearchesPerDay: 50 });
  });
  it('refuse values of the wrong kind, naming the field', () => {
    expect(() => parsePolicies([{ name: 'a', groups: ['g'], webSearch: 'no' }])).toThrow(
      /webSearch: expected true or false/,
    );
    expect(() => parsePolicies([{ name: 'a', groups: ['g'], webSearchesPerDay: 0 }])).toThrow(PolicyError);
  });
});

/**
 * Golden files: each ConverseStream fixture must produce exactly the SSE text in test/fixtures/golden.
 * Refresh with `UPDATE_GOLDEN=1 npx vitest run src/translate/converse-stream.golden.test.ts`, then review the diff.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  fixtureCases,
  fixtureContext,
  loadFixture,
  renderSse,
} from '../../test/fixtures/converse-stream/index.ts';

const GOLDEN = new URL('../../test/fixtures/golden/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';

describe('ConverseStream → Anthropic SSE golden files', () => {
  const cases = fixtureCases();

  it('has the agreed cases', () => {
    expect(cases).toEqual(
      expect.arrayContaining([
        'plain-text',
        'tool-call-fragmented',
        'two-tool-calls',
        'reasoning-open-model',
        'reasoning-claude-signature',
        'redacted-reasoning',
        'max-tokens',
        'guardrail-refusal',
        'cache-usage',
        'metadata-missing',
        'multibyte-text',
      ]),
    );
  });

  it.each(cases)('%s', (name) => {
    const actual = renderSse(loadFixture(name), fixtureContext(name));
    const file = new URL(`${name}.sse`, GOLDEN);
    if (UPDATE) writeFileSync(file, actual);
    expect(existsSync(file), `missing golden ${name}.sse (run with UPDATE_GOLDEN=1)`).toBe(true);
    expect(actual).toBe(readFileSync(file, 'utf8'));
  });
});

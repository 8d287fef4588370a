/**
 * Property-based: no request a client can send (valid-ish and malformed shapes, odd unicode, deep and
 * large values, wrong types) makes the validator or the translators behind it throw anything but a 4xx
 * ApiError, and every 4xx of the validator names the field (issue 11, "also refused like Anthropic").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/anthropic/errors.ts';
import type { MessagesRequest } from '../../src/anthropic/types.ts';
import { validateCountTokensRequest, validateMessagesRequest } from '../../src/anthropic/validate.ts';
import { claudeFeaturesFor } from '../../src/models/claude-features.ts';
import { CLAUDE, OPEN } from '../../src/translate/caps.fixture.ts';
import { toConverseRequest } from '../../src/translate/to-converse.ts';
import { toInvokeBody } from '../../src/translate/to-invoke.ts';
import { estimateInputTokens } from '../../src/translate/token-estimate.ts';
import { anyBody } from './request-arbitraries.ts';

/** Messages that concern the request as a whole rather than one field. */
const WHOLE_REQUEST = [
  'Request body must be a JSON object',
  'max_tokens must be greater than thinking.budget_tokens',
];
/** `field: …` or `field.path.to.it: …` (the path may hold quoted client keys). */
const NAMES_A_FIELD = /^[a-z_]+[.:…]/;

function expectClientError(err: unknown, from: string): void {
  if (!(err instanceof ApiError))
    throw new Error(`${from} threw a non-ApiError: ${String(err)}`, { cause: err });
  expect(err.status, `${from}: ${err.message}`).toBeGreaterThanOrEqual(400);
  expect(err.status, `${from}: ${err.message}`).toBeLessThan(500);
}

// ---- properties ----

function validated(validate: () => MessagesRequest): MessagesRequest | undefined {
  try {
    return validate();
  } catch (err) {
    expectClientError(err, 'validator');
    const message = (err as ApiError).message;
    if (!WHOLE_REQUEST.includes(message)) expect(message).toMatch(NAMES_A_FIELD);
    return undefined;
  }
}

/** What passed validation is safe to parse and to send on: the model name and the JSON depth are bounded. */
function expectSafe(req: MessagesRequest): void {
  expect(req.model.length).toBeLessThanOrEqual(256);
  expect(req.model.isWellFormed() && !/\p{C}/u.test(req.model), JSON.stringify(req.model)).toBe(true);
  expect(depthOf(req)).toBeLessThanOrEqual(128);
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  for (const child of Object.values(value)) deepest = Math.max(deepest, depthOf(child));
  return deepest + 1;
}

function translatesCleanly(req: MessagesRequest): void {
  expectSafe(req);
  const attempts: Array<[string, () => unknown]> = [
    ['estimateInputTokens', () => estimateInputTokens(req)],
    [
      'toInvokeBody',
      () =>
        toInvokeBody(req, {
          baseModelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
          betas: ['interleaved-thinking-2025-05-14'],
          features: claudeFeaturesFor('anthropic.claude-sonnet-4-5-20250929-v1:0'),
          maxOutputTokens: 64_000,
        }),
    ],
    [
      'toConverseRequest (Claude)',
      () => toConverseRequest(req, { modelId: 'm', caps: CLAUDE, signingSecret: 's' }),
    ],
    [
      'toConverseRequest (open)',
      () => toConverseRequest(req, { modelId: 'm', caps: OPEN, signingSecret: 's' }),
    ],
  ];
  for (const [name, attempt] of attempts) {
    try {
      attempt();
    } catch (err) {
      expectClientError(err, name);
    }
  }
}

describe('the request validator and translators never fail with a 5xx', () => {
  it('Messages requests', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const req = validated(() => validateMessagesRequest(body));
        if (req) translatesCleanly(req);
      }),
      { numRuns: 600 },
    );
  }, 120_000);

  it('count_tokens requests (counted as the real call would be sent)', () => {
    fc.assert(
      fc.property(anyBody, (body) => {
        const req = validated(() => validateCountTokensRequest(body) as MessagesRequest);
        if (req) translatesCleanly({ ...req, max_tokens: 1 });
      }),
      { numRuns: 400 },
    );
  }, 120_000);
});

/**
 * Every parser that sees a client-chosen value (model name, path, header, body string) stays linear on
 * hostile input: a 1 MB value costs about 1,000× a 1 KB one, never 1,000,000× (issue 11, item 1).
 */
import { describe, expect, it } from 'vitest';
import { validateCountTokensRequest, validateMessagesRequest } from '../../src/anthropic/validate.ts';
import { globMatches, modelAllowed } from '../../src/auth/model-globs.ts';
import { isLoopbackHost } from '../../src/config/config.ts';
import { parseBedrockClaudeId, parseClientClaudeName } from '../../src/models/aliases.ts';
import { capabilitiesFor } from '../../src/models/capabilities.ts';
import { US_EAST_1 } from '../../src/models/catalogue.fixture.ts';
import { claudeFeaturesFor } from '../../src/models/claude-features.ts';
import { toAnthropicModel } from '../../src/models/list.ts';
import { resolveModel } from '../../src/models/resolve.ts';
import { routePath } from '../../src/server/http/router.ts';
import { parseBetas, warningsHeader } from '../../src/server/messages/message-call.ts';
import { presentedKeys } from '../../src/server/middleware/auth.ts';
import { hostName } from '../../src/server/middleware/host-guard.ts';
import { sanitizeDocumentName } from '../../src/translate/document-name.ts';
import { toInvokeBody } from '../../src/translate/to-invoke.ts';
import { fromBedrockError, parseContextOverflow, scrubAwsDetails } from '../../src/upstream/aws-errors.ts';
import { withoutCredentials } from '../../src/upstream/scrub.ts';
import { expectLinear } from '../linear-time.ts';

const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length));

describe('model names', () => {
  it('client Claude names with a bracket run', () => {
    expectLinear((n) => `claude-${fill('[', n)}`, parseClientClaudeName);
    expectLinear((n) => `claude-sonnet-4-5${fill('[a', n)}]`, parseClientClaudeName);
    expectLinear((n) => `claude-${fill('1.1', n)}`, parseClientClaudeName);
    expectLinear((n) => `claude-${fill('1-', n)}sonnet`, parseClientClaudeName);
  });

  it('Bedrock Claude ids', () => {
    expectLinear((n) => `anthropic.claude-${fill('-v1:1', n)}!`, parseBedrockClaudeId);
    expectLinear((n) => `anthropic.claude-x-v${fill('1', n)}!`, parseBedrockClaudeId);
  });

  it('resolution, capabilities and GET /v1/models/{id}', () => {
    const us = { region: 'us-east-1', overrides: { 'claude-x*': 'claude-sonnet-4-5' } };
    expectLinear(
      (n) => `claude-${fill('[', n)}`,
      (name) => resolveModel(name, US_EAST_1, us),
    );
    expectLinear(
      (n) => `anthropic.${fill('claude-sonnet-4-', n)}`,
      (name) => resolveModel(name, US_EAST_1, us),
    );
    expectLinear((n) => fill('claude-opus-4-', n), capabilitiesFor);
    expectLinear(
      (n) => `claude-${fill('[', n)}`,
      (id) => toAnthropicModel(US_EAST_1, id),
    );
  });

  it('key model globs', () => {
    const globs = ['*claude*v1:0', '*a*a*a*a*b', 'us.*', '?*?*?*x'];
    expectLinear(
      (n) => fill('a', n),
      (name) => modelAllowed(globs, [name]),
    );
    expectLinear(
      (n) => fill('claudev1:', n),
      (name) => globMatches('*claude*v1:0', name),
    );
  });

  it('the request validator refuses a huge model name without parsing it', () => {
    const body = (model: string) => ({ model, max_tokens: 1, messages: [{ role: 'user', content: 'hi' }] });
    expectLinear((n) => body(`claude-${fill('[', n)}`), validateMessagesRequest);
    expectLinear((n) => body(`claude-${fill('[', n)}`), validateCountTokensRequest);
  });

  // Not a size ratio (the validator's cost per block hides a quadratic term at 1 MB): a turn of 120,000
  // tool_use blocks answered in the next. Pairing looked each id up in a list: ~20 s, far past the
  // timeout; linear it takes a few hundred ms (a wide margin for a loaded machine).
  it('the request validator pairs a turn of 120,000 tool_use blocks with as many tool_result blocks', () => {
    const ids = Array.from({ length: 120_000 }, (_, i) => `toolu_${i}`);
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 1,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: ids.map((id) => ({ type: 'tool_use', id, name: 't', input: {} })) },
        { role: 'user', content: ids.reverse().map((id) => ({ type: 'tool_result', tool_use_id: id })) },
      ],
    };
    expect(validateMessagesRequest(body).messages).toHaveLength(3);
  }, 10_000);
});

describe('paths and headers', () => {
  it('trailing slashes', () => {
    expectLinear((n) => `/v1/messages${fill('/', n)}x`, routePath);
    expectLinear((n) => `/v1/messages${fill('/', n)}`, routePath);
  });

  it('authorization, host and anthropic-beta headers', () => {
    expectLinear(
      (n) => ({ authorization: `Bearer${fill(' ', n)}\t` }),
      (headers) => presentedKeys(headers),
    );
    expectLinear(
      (n) => `Bearer ${fill('x', n)}`,
      (authorization) => presentedKeys({ authorization }),
    );
    expectLinear((n) => `[${fill(':', n)}`, hostName);
    expectLinear((n) => fill('127.0.0.1', n), isLoopbackHost);
    expectLinear((n) => fill('a, ,', n), parseBetas);
  });

  it('selecting the betas Bedrock takes from many distinct names (a Bedrock-format body may hold a million)', () => {
    const model = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
    const features = claudeFeaturesFor(model);
    const request = { model: 'claude', max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] };
    expectLinear(
      (n) => Array.from({ length: Math.ceil(n / 8) }, (_, i) => `b${i}`),
      (betas) => toInvokeBody(request, { baseModelId: model, betas, features, maxOutputTokens: 64_000 }),
    );
  });
});

describe('strings from bodies and upstream messages', () => {
  it('document titles and warning headers', () => {
    expectLinear((n) => fill('é  ', n), sanitizeDocumentName);
    expectLinear((n) => [fill('\u00e9 ', n)], warningsHeader);
  });

  it('upstream error messages that may echo client input', () => {
    const messages = [
      (n: number) => fill('arn:aws', n),
      (n: number) => `prompt contains 1 tokens${fill('1', n)}`,
      (n: number) => `prompt contains 1 tokens${fill('1 ', n)}`,
      (n: number) => `maximum context length is 1 tokens ${fill('requested 1', n)}`,
      (n: number) => fill('account id: 1', n),
      (n: number) => fill('Credential=', n),
      (n: number) => fill('X-Amz-Security-Token ', n),
      (n: number) => `Bearer ${fill('k', n)}`,
    ];
    for (const message of messages) {
      expectLinear(message, scrubAwsDetails);
      expectLinear(message, parseContextOverflow);
      expectLinear(message, withoutCredentials);
      expectLinear(
        (n) => Object.assign(new Error(message(n)), { name: 'ValidationException', $metadata: {} }),
        (err) => fromBedrockError(err),
      );
    }
  });
});

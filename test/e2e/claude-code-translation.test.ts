/**
 * Claude Code's real request bodies (golden captures, see golden.ts) through the gateway's translators
 * for many model families, checked by the Bedrock emulator's own validators: what abproxy would send
 * for each is what Bedrock accepts. No network: this runs on the checked-in captures.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../../src/anthropic/types.ts';
import { validateMessagesRequest } from '../../src/anthropic/validate.ts';
import { capabilitiesFor } from '../../src/models/capabilities.ts';
import { claudeFeaturesFor } from '../../src/models/claude-features.ts';
import { toConverseRequest } from '../../src/translate/to-converse.ts';
import { toInvokeBody } from '../../src/translate/to-invoke.ts';
import { toMessagesApiBody } from '../../src/translate/to-messages.ts';
import { messagesApiHeaders, withModel } from '../../src/upstream/messages-api.ts';
import { EMULATOR_ACCOUNT_ID } from '../emulator/catalogue.ts';
import { validateInvokeBody } from '../emulator/invoke.ts';
import { validateMessagesApiCall } from '../emulator/messages-api.ts';
import { findModel } from '../emulator/models.ts';
import { validateConverseRequest } from '../emulator/validate-converse.ts';
import { GOLDEN_DIR, type GoldenRequest, readGolden } from './golden.ts';

// Must match the e2e gateway's ABPROXY_SIGNING_SECRET so its signed thinking in the captures verifies.
const SIGNING_SECRET = 'e2e-signing-secret';
const SECRET = 'PELICAN-42';

const CONVERSE_MODELS = [
  'qwen.qwen3-coder-480b-a35b-v1:0',
  'qwen.qwen3-32b-v1:0',
  'openai.gpt-oss-120b-1:0',
  'deepseek.v3-v1:0',
  'moonshot.kimi-k2-thinking',
  'minimax.minimax-m2',
  'amazon.nova-pro-v1:0',
  'amazon.nova-2-lite-v1:0',
  'meta.llama4-maverick-17b-instruct-v1:0',
  'mistral.mistral-large-2407-v1:0',
  'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'anthropic.claude-sonnet-4-6',
  'anthropic.claude-haiku-4-5-20251001-v1:0',
  'anthropic.claude-opus-4-6-v1',
];
const INVOKE_MODELS = CONVERSE_MODELS.filter((id) => id.startsWith('anthropic.'));

const captures = readdirSync(GOLDEN_DIR)
  .filter((name) => name.endsWith('.json'))
  .flatMap((name) => {
    const golden = readGolden(name.replace(/\.json$/, ''))!;
    return golden.requests.map((request, i) => ({ label: `${golden.scenario} #${i + 1}`, request }));
  });

type Json = Record<string, unknown>;

/** The SDK's wire form: no modelId (it is in the URL), blobs as base64. */
function wireBody(input: object): Json {
  const { modelId: _modelId, ...rest } = input as Json;
  return JSON.parse(
    JSON.stringify(rest, (_key, value) =>
      value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value,
    ),
  );
}

function validated(request: GoldenRequest): MessagesRequest {
  return validateMessagesRequest(structuredClone(request.body), { betas: request.betas });
}

describe('golden Claude Code captures', () => {
  it('exist and cover a tool loop with thinking', () => {
    const scenarios = new Set(captures.map((c) => c.label.split(' ')[0]));
    expect(scenarios.size).toBeGreaterThanOrEqual(3);
    // At least one capture replays a tool result and one replays thinking: the shapes that break translation.
    expect(captures.some((c) => JSON.stringify(c.request.body).includes('"tool_result"'))).toBe(true);
    expect(captures.some((c) => JSON.stringify(c.request.body).includes('"type":"thinking"'))).toBe(true);
  });

  it.each(captures)('$label passes the gateway request validation', ({ request }) => {
    expect(() => validated(request)).not.toThrow();
  });
});

describe.each(CONVERSE_MODELS)('Converse for %s', (modelId) => {
  const model = findModel(modelId)!;
  const caps = capabilitiesFor(modelId);

  it.each(captures)('$label translates to a body Bedrock accepts', ({ request }) => {
    expect(model).toBeDefined();
    const { input } = toConverseRequest(validated(request), {
      modelId,
      caps,
      signingSecret: SIGNING_SECRET,
    });
    const body = wireBody(input);
    // Claude Code always streams; where the model takes tools only without streaming the gateway must
    // call Converse instead (caps.streamingTools), so that is the operation to check.
    const stream = caps.streamingTools !== false || body.toolConfig === undefined;
    expect(() => validateConverseRequest(body, { model, stream })).not.toThrow();

    const text = JSON.stringify(body);
    // The per-session billing line never reaches Bedrock (it would defeat prompt caching).
    expect(text).not.toContain('x-anthropic-billing-header');
    // A tool result Claude Code sent back reaches the model.
    if (JSON.stringify(request.body).includes('tool_result')) expect(text).toContain(SECRET);
    // Claude Code's tools stay callable where the model has tools.
    if (caps.tools) {
      const names = ((body.toolConfig as Json).tools as Json[]).map((t) => (t.toolSpec as Json).name);
      expect(names).toEqual(expect.arrayContaining(['Read', 'Bash']));
    }
  });
});

describe.each(INVOKE_MODELS)('InvokeModel (native) for %s', (modelId) => {
  const model = findModel(modelId)!;
  const caps = capabilitiesFor(modelId);

  it.each(captures)('$label translates to a body Bedrock accepts', ({ request }) => {
    const { body } = toInvokeBody(validated(request), {
      baseModelId: modelId,
      betas: request.betas,
      features: claudeFeaturesFor(modelId),
      maxOutputTokens: caps.maxOutputTokens,
    });
    const json = JSON.parse(body) as Json;
    expect(() => validateInvokeBody(json, model)).not.toThrow();
    expect(body).not.toContain('x-anthropic-billing-header');
    // Claude Code 2.1.332 asks for thinking.display "updates", which no Bedrock source lists.
    expect((json.thinking as Json | undefined)?.display).not.toBe('updates');
    // Only betas Bedrock knows go out; Claude Code's own (claude-code-…, thinking-display-updates-…) stay home.
    for (const beta of (json.anthropic_beta as string[] | undefined) ?? []) {
      expect(beta).not.toMatch(/^claude-code-|^thinking-display-updates-|^mid-conversation-/);
    }
  });
});

describe.each(
  INVOKE_MODELS.flatMap((modelId) => [
    ['runtime', `us.${modelId}`, modelId],
    ['mantle', modelId, modelId],
  ]) as ['runtime' | 'mantle', string, string][],
)("Bedrock's Messages API on %s for %s", (host, bodyModel, modelId) => {
  const caps = capabilitiesFor(modelId);

  it.each(captures)('$label translates to a call Bedrock accepts', ({ request }) => {
    const shaped = toMessagesApiBody(validated(request), {
      baseModelId: modelId,
      betas: request.betas,
      features: claudeFeaturesFor(modelId),
      maxOutputTokens: caps.maxOutputTokens,
      stream: true,
    });
    const body = JSON.parse(withModel(shaped.body, bodyModel)) as Json;
    const headers = messagesApiHeaders({
      host,
      modelId: bodyModel,
      body: '',
      betas: shaped.betas,
      stream: true,
    });
    expect(() =>
      validateMessagesApiCall(host, body, headers, 'us-east-1', EMULATOR_ACCOUNT_ID),
    ).not.toThrow();
    expect(shaped.body).not.toContain('x-anthropic-billing-header');
    for (const beta of shaped.betas) expect(beta).not.toMatch(/^claude-code-|^thinking-display-updates-/);
  });
});

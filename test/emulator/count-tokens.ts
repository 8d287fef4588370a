/** CountTokens: `{input:{converse:{…}}}` or `{input:{invokeModel:{body}}}` → `{inputTokens}`. */

import { converseSegments } from './converse.ts';
import { validationError } from './errors.ts';
import { invokeSegments, validateInvokeBody } from './invoke.ts';
import type { EmulatedModel } from './models.ts';
import { promptUsage } from './usage.ts';
import { validateConverseRequest } from './validate-converse.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function countTokens(body: unknown, model: EmulatedModel): { inputTokens: number } {
  if (!model.countTokens) {
    throw validationError(`The provided model doesn't support counting tokens.`); // unverified wording
  }
  const input = isObject(body) ? body.input : undefined;
  if (!isObject(input) || Object.keys(input).length !== 1) {
    throw validationError('The input field must set exactly one of converse or invokeModel.');
  }
  if (isObject(input.converse)) {
    validateConverseRequest(input.converse, { model, stream: false });
    const usage = promptUsage(converseSegments(input.converse), false, new Set());
    return { inputTokens: usage.inputTokens };
  }
  if (isObject(input.invokeModel)) {
    const raw = input.invokeModel.body;
    if (typeof raw !== 'string') throw validationError('The invokeModel.body field is required.');
    const parsed = parseInvokeBody(raw);
    validateInvokeBody(parsed, model);
    return { inputTokens: promptUsage(invokeSegments(parsed as Json), false, new Set()).inputTokens };
  }
  throw validationError('The input field must set exactly one of converse or invokeModel.');
}

/** The SDK sends the body as a base64 blob; accept raw JSON text too. */
function parseInvokeBody(raw: string): unknown {
  const attempts = [raw, Buffer.from(raw, 'base64').toString('utf8')];
  for (const text of attempts) {
    try {
      return JSON.parse(text);
    } catch {
      // try the next reading
    }
  }
  throw validationError('Malformed input request, please reformat your input and try again.');
}

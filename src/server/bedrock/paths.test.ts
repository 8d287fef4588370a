import { describe, expect, it } from 'vitest';
import { decodeModelId, doorOperation, isDoorPath, runtimeCall } from './paths.ts';

describe('door paths', () => {
  it('knows its paths', () => {
    expect(isDoorPath('/model/x/converse')).toBe(true);
    expect(isDoorPath('/foundation-models')).toBe(true);
    expect(isDoorPath('/inference-profiles/us.x')).toBe(true);
    expect(isDoorPath('/v1/messages')).toBe(false);
    expect(isDoorPath('/foundation-modelsX')).toBe(false);
  });

  it('splits /model/{id}/{operation}, an encoded ARN or one with bare slashes', () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x';
    expect(runtimeCall(`/model/${encodeURIComponent(arn)}/invoke`)).toEqual({
      operation: 'invoke',
      operationName: 'invoke',
      encodedModelId: encodeURIComponent(arn),
    });
    expect(runtimeCall(`/model/${arn}/converse-stream`)?.encodedModelId).toBe(arn);
    expect(runtimeCall('/model/x/explode')?.operation).toBeUndefined();
    expect(runtimeCall('/model/x')).toBeNull();
    expect(runtimeCall('/model/x/')).toBeNull();
    expect(runtimeCall('/model//converse')).toEqual({
      operation: 'converse',
      operationName: 'converse',
      encodedModelId: '',
    });
    expect(doorOperation('/model/a/count-tokens')).toBe('count-tokens');
    expect(doorOperation('/v1/messages')).toBeUndefined();
  });

  it('decodes model ids and refuses what no model id is', () => {
    expect(decodeModelId('us.anthropic.claude-x-v1%3A0')).toEqual({
      ok: true,
      modelId: 'us.anthropic.claude-x-v1:0',
    });
    expect(decodeModelId('%E0%A4%A').ok).toBe(false);
    expect(decodeModelId('a%0Ab').ok).toBe(false);
    expect(decodeModelId('a%20b').ok).toBe(false);
    expect(decodeModelId('').ok).toBe(false);
    expect(decodeModelId('x'.repeat(2049)).ok).toBe(false);
  });
});

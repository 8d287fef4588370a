import { StopReason as BedrockStopReason } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { mapStopReason, stopSequenceFrom } from './stop-reason.ts';

describe('mapStopReason', () => {
  it.each([
    ['end_turn', 'end_turn'],
    ['tool_use', 'tool_use'],
    ['max_tokens', 'max_tokens'],
    ['stop_sequence', 'stop_sequence'],
    ['model_context_window_exceeded', 'model_context_window_exceeded'],
    ['guardrail_intervened', 'refusal'],
    ['content_filtered', 'refusal'],
  ])('maps %s to %s without a warning', (bedrock, anthropic) => {
    expect(mapStopReason(bedrock)).toEqual({ stopReason: anthropic });
  });

  it.each(['malformed_model_output', 'malformed_tool_use'])(
    'reports %s as end_turn with a warning',
    (bedrock) => {
      const mapped = mapStopReason(bedrock);
      expect(mapped.stopReason).toBe('end_turn');
      expect(mapped.warning).toContain(bedrock);
    },
  );

  it('handles every stop reason the installed SDK knows', () => {
    for (const reason of Object.values(BedrockStopReason)) {
      expect(mapStopReason(reason).stopReason, reason).not.toBe(undefined);
      expect(mapStopReason(reason).warning ?? '', reason).not.toContain('unrecognized');
    }
  });

  it('maps an unknown future value to end_turn and says so', () => {
    const mapped = mapStopReason('quantum_interrupt');
    expect(mapped).toEqual({ stopReason: 'end_turn', warning: expect.stringContaining('quantum_interrupt') });
  });

  it('keeps an unknown value that is itself an Anthropic stop reason, with a warning', () => {
    const mapped = mapStopReason('refusal');
    expect(mapped.stopReason).toBe('refusal');
    expect(mapped.warning).toBeDefined();
  });

  it('warns when Bedrock gives no stop reason', () => {
    expect(mapStopReason(undefined)).toEqual({ stopReason: 'end_turn', warning: expect.any(String) });
  });
});

describe('stopSequenceFrom', () => {
  it('reads Claude’s stop_sequence from Converse and ConverseStream shapes', () => {
    expect(stopSequenceFrom({ stop_sequence: '###' })).toBe('###');
    expect(stopSequenceFrom({ delta: { stop_sequence: 'END' } })).toBe('END');
  });

  it('gives null when Bedrock does not say which sequence matched', () => {
    expect(stopSequenceFrom(undefined)).toBeNull();
    expect(stopSequenceFrom({ stop_sequence: null })).toBeNull();
    expect(stopSequenceFrom({ delta: null })).toBeNull();
    expect(stopSequenceFrom('x')).toBeNull();
  });
});

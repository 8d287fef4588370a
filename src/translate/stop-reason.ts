/**
 * Bedrock stop reasons → Anthropic stop reasons. Lossy cases are explicit: safety stops become `refusal`
 * (what Anthropic clients act on), and any value this build does not know becomes `end_turn` together
 * with a warning, never silently.
 */
import type { StopReason as BedrockStopReason } from '@aws-sdk/client-bedrock-runtime';
import type { StopReason } from '../anthropic/types.ts';

export interface MappedStopReason {
  stopReason: StopReason;
  warning?: string;
}

const ANTHROPIC_STOP_REASONS: ReadonlySet<string> = new Set<StopReason>([
  'end_turn',
  'max_tokens',
  'stop_sequence',
  'tool_use',
  'pause_turn',
  'refusal',
  'model_context_window_exceeded',
]);

function isKnown(reason: string): reason is BedrockStopReason {
  return (KNOWN_BEDROCK as ReadonlySet<string>).has(reason);
}

const KNOWN_BEDROCK: ReadonlySet<BedrockStopReason> = new Set<BedrockStopReason>([
  'end_turn',
  'tool_use',
  'max_tokens',
  'stop_sequence',
  'guardrail_intervened',
  'content_filtered',
  'model_context_window_exceeded',
  'malformed_model_output',
  'malformed_tool_use',
]);

export function mapStopReason(reason: string | undefined): MappedStopReason {
  if (reason === undefined) return { stopReason: 'end_turn', warning: 'Bedrock sent no stop reason' };
  if (!isKnown(reason)) {
    // A newer Bedrock may forward Claude's own reason (e.g. `refusal`): keep it when Anthropic has it.
    if (ANTHROPIC_STOP_REASONS.has(reason)) {
      return {
        stopReason: reason as StopReason,
        warning: `unrecognized Bedrock stop reason '${reason}' passed through`,
      };
    }
    return {
      stopReason: 'end_turn',
      warning: `unrecognized Bedrock stop reason '${reason}' reported as end_turn`,
    };
  }
  switch (reason) {
    case 'end_turn':
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
    case 'model_context_window_exceeded':
      return { stopReason: reason };
    case 'guardrail_intervened':
    case 'content_filtered':
      return { stopReason: 'refusal' };
    case 'malformed_model_output':
    case 'malformed_tool_use':
      // Anthropic has no equivalent; the turn is over and whatever was produced is all there is.
      return { stopReason: 'end_turn', warning: `Bedrock stop reason '${reason}' reported as end_turn` };
    default: {
      const unreachable: never = reason;
      return unreachable;
    }
  }
}

/**
 * A stop reason Claude's native (InvokeModel) body carries → Anthropic's: Claude's own values pass
 * through; Bedrock-added ones (a guardrail's `guardrail_intervened`) get the Converse mapping.
 */
export function nativeStopReason(reason: string): StopReason {
  return ANTHROPIC_STOP_REASONS.has(reason) ? (reason as StopReason) : mapStopReason(reason).stopReason;
}

/**
 * Which stop sequence matched, when Bedrock says so. Claude reports it in additionalModelResponseFields:
 * `stop_sequence` in Converse, `delta.stop_sequence` (its own message_delta shape) in ConverseStream.
 */
export function stopSequenceFrom(additionalFields: unknown): string | null {
  if (typeof additionalFields !== 'object' || additionalFields === null) return null;
  const fields = additionalFields as { stop_sequence?: unknown; delta?: { stop_sequence?: unknown } | null };
  if (typeof fields.stop_sequence === 'string') return fields.stop_sequence;
  const nested = fields.delta?.stop_sequence;
  return typeof nested === 'string' ? nested : null;
}

// CONTRACT STUB — owned by the models helper, who replaces the body. Signature agreed; keep it.
import type { Effort, ThinkingConfig } from '../anthropic/types.ts';
import type { ModelCapabilities } from '../models/types.ts';

export interface FamilyParamsInput {
  thinking?: ThinkingConfig;
  effort?: Effort | null;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
}

export interface FamilyParams {
  /** Goes to Converse `additionalModelRequestFields` (omitted when empty). */
  additionalModelRequestFields: Record<string, unknown>;
  /** Converse inferenceConfig values after family rules (clamped maxTokens; temperature/topP dropped
   * where the family forbids them with reasoning on). */
  maxTokens: number;
  temperature?: number;
  topP?: number;
  /** True when the request asks the model to reason (affects history handling). */
  reasoning: boolean;
  warnings: string[];
}

export function familyParams(_caps: ModelCapabilities, _input: FamilyParamsInput): FamilyParams {
  throw new Error('not implemented');
}

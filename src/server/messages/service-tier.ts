/**
 * The service tier of one call: the key's (else the configured default), narrowed by the model's
 * capabilities, and dropped to `default` once if Bedrock refuses it at run time (capability tables lag
 * behind Bedrock's rollouts). The tier actually used is told in response headers.
 */
import type { ServerResponse } from 'node:http';
import type { ServiceTier } from '../../models/types.ts';

export const TIER_HEADER = 'x-abproxy-service-tier';
/** Present when the call did not run on the tier it asked for; holds the tier that was wanted. */
export const TIER_FALLBACK_HEADER = 'x-abproxy-service-tier-fallback';

export interface TierState {
  /** The tier asked for (the key's or the default). */
  wanted: ServiceTier;
  /** The tier sent to Bedrock; undefined sends none (Bedrock's default). */
  tier: ServiceTier | undefined;
}

/**
 * What a tier costs, cheapest first: flex < default < priority and reserved. Priority and reserved are
 * not ranked against each other (pay-per-use premium vs. prepaid capacity): neither gives the other.
 */
const TIER_RANK: Readonly<Record<ServiceTier, number>> = { flex: 0, default: 1, priority: 2, reserved: 2 };

/**
 * Whether a tier the caller named itself (the Bedrock door's `X-Amzn-Bedrock-Service-Tier` or Converse
 * `serviceTier`) is within its key's: the key's own or a cheaper one. A tier name we do not know is not
 * (its cost is unknown). /v1/messages takes Anthropic's names instead (`messagesTier`).
 */
export function tierWithinKey(callerTier: string, keyTier: ServiceTier): boolean {
  if (!Object.hasOwn(TIER_RANK, callerTier)) return false;
  const caller = callerTier as ServiceTier;
  return caller === keyTier || TIER_RANK[caller] < TIER_RANK[keyTier];
}

/**
 * The tier a /v1/messages call asks for: its key's (else the default), except that Anthropic's
 * `service_tier: "standard_only"` keeps it off priority and reserved capacity. `auto` (or none) leaves
 * the key's tier; a caller never raises it.
 */
export function messagesTier(keyTier: ServiceTier, requested: string | undefined): ServiceTier {
  return requested === 'standard_only' && TIER_RANK[keyTier] > TIER_RANK.default ? 'default' : keyTier;
}

/** Bedrock's ValidationException for a tier the model or account does not offer. */
export function isTierRejection(err: unknown): boolean {
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  return name === 'ValidationException' && typeof message === 'string' && /service[ _-]?tier/i.test(message);
}

/** Sets (or resets) the tier headers; headers set on `res` survive writeHead, errors included. */
export function setTierHeaders(res: ServerResponse, state: TierState): void {
  const used = state.tier ?? 'default';
  res.setHeader(TIER_HEADER, used);
  if (used !== state.wanted) res.setHeader(TIER_FALLBACK_HEADER, state.wanted);
  else res.removeHeader(TIER_FALLBACK_HEADER);
}

/**
 * Runs `send` with the call's tier; when Bedrock rejects that tier, runs it once more with the default.
 * `onFallback` hears about it (logs, warnings).
 */
export async function withTierFallback<T>(
  state: TierState,
  res: ServerResponse,
  send: (tier: ServiceTier | undefined) => Promise<T>,
  onFallback?: (err: unknown) => void,
): Promise<T> {
  try {
    return await send(state.tier);
  } catch (err) {
    if (state.tier === undefined || !isTierRejection(err)) throw err;
    onFallback?.(err);
    state.tier = undefined;
    setTierHeaders(res, state);
    return send(undefined);
  }
}

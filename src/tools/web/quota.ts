/**
 * Per-key rules for the web tools: whether a key may use them at all (`keys create --no-web-search`
 * stores `limits.webTools = false`) and its daily cap of searches (`--web-search-daily N` →
 * `limits.webSearchesPerDay`; a search the provider failed is given back: it is not billed). Fetches
 * are not capped per day: read by the gateway itself they cost no provider fee (through a provider's
 * extract API, `ABPROXY_WEB_FETCH_VIA=provider`, they do, uncapped), and each request bounds them with
 * `max_uses`.
 *
 * The count lives in the limits layer's window counters (src/limits/), one window per UTC day:
 * `webToolLimiter(store)` leases from the store's atomic counters, so the count survives restarts in solo
 * mode (SQLite) and is shared by every instance in team mode (DynamoDB). Any other WindowLimiter works
 * too (tests: LocalLimiter).
 *
 * How the server-tools loop uses it (websearch):
 *   const quota = webToolQuota({ limiter: webToolLimiter(store, onError) });   // once, at start-up
 *   if (!quota.allowed(caller)) → refuse the request (403 permission_error, quotaRefusalMessage)
 *   before each search: await quota.use(caller, 'search')   // throws WebToolError('too_many_requests')
 *     → the model gets a web_search_tool_result_error with that code; nothing is counted then.
 * `caller` is the metering Caller (`{ keyId, limits }`, src/server/middleware/accounting.ts callerOf):
 * the master key and open loopback gateways have no limits, so they are always allowed, never capped.
 */
import { counterLeases } from '../../limits/counter-leases.ts';
import { SharedLimiter } from '../../limits/shared.ts';
import { type WindowLimiter, windowStart } from '../../limits/types.ts';
import type { KeyLimits, Store } from '../../store/types.ts';
import { WebToolError } from './types.ts';

export const DAY_MS = 86_400_000;

export type WebToolKind = 'search' | 'fetch';

export interface WebToolCaller {
  keyId: string;
  limits: KeyLimits;
}

export interface WebToolQuota {
  /** Whether the key may use web search/fetch at all. */
  allowed(caller: WebToolCaller): boolean;
  /** Counts one use if the key's daily cap allows it; false (nothing counted) when it does not. */
  tryUse(caller: WebToolCaller, kind: WebToolKind): Promise<boolean>;
  /** `tryUse`, throwing the WebToolError the model is told about when refused. */
  use(caller: WebToolCaller, kind: WebToolKind): Promise<void>;
  /** Gives back a use `tryUse` counted whose search then failed (the provider's error): it is not billed. */
  giveBack(caller: WebToolCaller, kind: WebToolKind): void;
}

export const quotaRefusalMessage = 'this API key may not use web search or web fetch';

/** Durable counters for the daily cap: the store's atomic counters (SQLite solo, DynamoDB team). */
export function webToolLimiter(
  store: Pick<Store, 'addToCounter'>,
  onError?: (err: unknown) => void,
): WindowLimiter {
  return new SharedLimiter({ store: counterLeases(store), ...(onError ? { onError } : {}) });
}

export function webToolQuota(options: { limiter: WindowLimiter; now?: () => number }): WebToolQuota {
  const now = options.now ?? Date.now;
  const allowed = (caller: WebToolCaller) => caller.limits.webTools !== false;
  const tryUse = async (caller: WebToolCaller, kind: WebToolKind): Promise<boolean> => {
    if (!allowed(caller)) return false;
    const cap = caller.limits.webSearchesPerDay;
    if (kind !== 'search' || cap === undefined) return true;
    const take = await options.limiter.take(`websearch:${caller.keyId}`, 1, cap, DAY_MS, now());
    return take.ok;
  };
  return {
    allowed,
    tryUse,
    giveBack(caller, kind) {
      const cap = caller.limits.webSearchesPerDay;
      if (kind !== 'search' || cap === undefined || !allowed(caller)) return;
      options.limiter.adjust(`websearch:${caller.keyId}`, -1, cap, DAY_MS, windowStart(now(), DAY_MS));
    },
    async use(caller, kind) {
      if (!allowed(caller)) {
        // Anthropic's codes differ by tool: web_search's invalid_input, web_fetch's invalid_tool_input.
        throw new WebToolError(
          kind === 'fetch' ? 'invalid_tool_input' : 'invalid_input',
          quotaRefusalMessage,
        );
      }
      if (!(await tryUse(caller, kind))) {
        throw new WebToolError(
          'too_many_requests',
          `this API key used its ${caller.limits.webSearchesPerDay} web searches for today (the count restarts at 00:00 UTC)`,
        );
      }
    },
  };
}

/**
 * One POST /v1/messages call as both paths (Converse, native InvokeModel) see it: decided once by the
 * handler, then used by the path and the stream pump. Owns the upstream send: the call's service tier
 * (with the one fallback to `default`), the client leaving, and the mapping of Bedrock failures.
 */
import type { ApiError } from '../../anthropic/errors.ts';
import type { MessagesRequest } from '../../anthropic/types.ts';
import type { ResolvedModel, ServiceTier } from '../../models/types.ts';
import type { AppDeps } from '../deps.ts';
import type { Ctx } from '../http/context.ts';
import { randomId } from '../http/random-id.ts';
import type { ThreadTurn } from './threads.ts';

export function newMessageId(): string {
  return randomId('msg_');
}

/** Header-safe summary of lossy steps: the count, then as many as fit. */
export function warningsHeader(warnings: readonly string[]): string {
  const text = `${warnings.length}; ${warnings.join('; ')}`.replace(/[^\x20-\x7e]/g, '?');
  return text.length > 512 ? `${text.slice(0, 509)}...` : text;
}

/** The client's `anthropic-beta` header(s) as a list. */
export function parseBetas(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const joined = Array.isArray(header) ? header.join(',') : header;
  return joined
    .split(',')
    .map((beta) => beta.trim())
    .filter((beta) => beta !== '');
}

/** Everything both paths share, decided once per request. */
export interface MessageCall {
  ctx: Ctx;
  deps: AppDeps;
  request: MessagesRequest;
  model: ResolvedModel;
  betas: string[];
  tier: ServiceTier | undefined;
  /**
   * Sends the upstream call with the call's tier, retrying once on `default` when Bedrock rejects the
   * tier (then `tier` becomes undefined and the tier headers say so). Resolves undefined when the
   * client left meanwhile (nobody to answer); any other failure is thrown as the client's error.
   */
  send<T>(send: (tier: ServiceTier | undefined) => Promise<T>): Promise<T | undefined>;
  /** Lossy steps so far (tier fallback); each path adds its own. */
  warnings: string[];
  abort: AbortController;
  inputTokensEstimate: number;
  /** The request's part in a message thread: each path hands it the whole reply (threads.ts). */
  thread?: ThreadTurn;
  /** Turns an upstream failure into the client's error (context overflow needs the sizes). */
  upstreamError: (err: unknown) => ApiError;
  /** Response headers for a successful answer (model, warnings). */
  headers(extraWarnings: readonly string[]): Record<string, string>;
}

import type { Usage } from '../../anthropic/types.ts';
import { meterUsage } from '../../metrics/stats.ts';
import { billedUsage, cacheCreationOf } from '../../translate/usage.ts';
import { tokenCount } from '../../usage/bounds.ts';
import type { Ctx } from '../http/context.ts';

/**
 * A request's final (or, for a cut stream, last seen) usage: to the live stats and to usage records.
 * `estimated`: the counts are the gateway's estimate (a stream cut before Bedrock's final counts).
 * The counts come from Bedrock's answer: each is bounded (tokenCount) before it is metered or billed,
 * so a broken or hostile upstream's negative, huge or non-numeric count neither refunds nor exhausts
 * a budget.
 */
export function reportUsage(ctx: Ctx, answered: Usage, options: { estimated?: boolean } = {}): void {
  // A compaction's own sampling is billed too, though Claude's top-level counts leave it out.
  const usage = billedUsage(answered);
  const counted: Usage = {
    ...usage,
    input_tokens: tokenCount(usage.input_tokens),
    output_tokens: tokenCount(usage.output_tokens),
    cache_creation_input_tokens: tokenCount(usage.cache_creation_input_tokens),
    cache_read_input_tokens: tokenCount(usage.cache_read_input_tokens),
  };
  const split = cacheCreationOf(usage.cache_creation);
  if (split) counted.cache_creation = split;
  else delete counted.cache_creation;
  meterUsage(ctx, counted);
  ctx.span?.usage(counted);
  ctx.meter?.usage(counted, options.estimated === true);
}

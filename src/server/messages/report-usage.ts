import type { Usage } from '../../anthropic/types.ts';
import { meterUsage } from '../../metrics/stats.ts';
import type { Ctx } from '../http/context.ts';

/**
 * A request's final (or, for a cut stream, last seen) usage: to the live stats and to usage records.
 * `estimated`: the counts are the gateway's estimate (a stream cut before Bedrock's final counts).
 */
export function reportUsage(ctx: Ctx, usage: Usage, options: { estimated?: boolean } = {}): void {
  meterUsage(ctx, usage);
  ctx.meter?.usage(usage, options.estimated === true);
}

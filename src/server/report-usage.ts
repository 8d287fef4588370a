import type { Usage } from '../anthropic/types.ts';
import type { Ctx } from './context.ts';
import { meterUsage } from './stats.ts';

/** A request's final (or, for a cut stream, last seen) usage: to the live stats and to usage records. */
export function reportUsage(ctx: Ctx, usage: Usage): void {
  meterUsage(ctx, usage);
  ctx.meter?.usage(usage);
}

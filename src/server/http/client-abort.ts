import { traceCallsWith } from '../../upstream/trace.ts';
import type { Ctx } from './context.ts';

/**
 * The request's abort controller: aborted when the client leaves before the answer was finished (its
 * upstream calls and media fetches stop), or by the handler itself (a stream that failed). Upstream
 * calls made with its signal report into the request's upstream trace (which upstream served it).
 */
export function clientAbort(ctx: Ctx): AbortController {
  const abort = new AbortController();
  ctx.res.on('close', () => {
    if (!ctx.res.writableFinished) abort.abort(new Error('client disconnected'));
  });
  if (ctx.upstream) traceCallsWith(abort.signal, ctx.upstream);
  return abort;
}

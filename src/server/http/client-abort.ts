import type { ServerResponse } from 'node:http';
import { traceCallsWith } from '../../upstream/trace.ts';
import type { Ctx } from './context.ts';
import type { DrainOptions } from './respond.ts';

/**
 * The client left while its request was being read (its connection reset or closed mid-body): nobody to
 * answer, not our fault. Recorded as 499 and logged at debug level, never as a 500.
 */
export class ClientLeftError extends Error {
  override readonly name = 'ClientLeftError';
}

/**
 * The client is gone: its socket (HTTP/1.1) or its stream (HTTP/2: node's compatibility response has
 * no `destroyed`, and reads as `writableFinished` once the client reset the stream) was destroyed.
 */
export function responseGone(res: ServerResponse): boolean {
  return res.destroyed || (res as { stream?: { destroyed: boolean } }).stream?.destroyed === true;
}

/**
 * The request's abort controller: aborted when the client leaves before the answer was finished (its
 * upstream calls and media fetches stop), or by the handler itself (a stream that failed). Upstream
 * calls made with its signal report into the request's upstream trace (which upstream served it).
 */
export function clientAbort(ctx: Ctx): AbortController {
  const abort = new AbortController();
  ctx.res.on('close', () => {
    // writableEnded, not writableFinished: an HTTP/2 response whose stream the client reset reads as finished.
    if (!ctx.res.writableEnded) abort.abort(new Error('client disconnected'));
  });
  if (ctx.upstream) traceCallsWith(abort.signal, ctx.upstream);
  return abort;
}

/** The stall deadline of one streamed response (ABPROXY_CLIENT_STALL_TIMEOUT_MS), with its log line. */
export function stallDeadline(ctx: Ctx, stallMs: number): DrainOptions {
  return {
    stallMs,
    onStall: () =>
      ctx.log.info(
        { requestId: ctx.requestId, stallMs },
        'the client took no bytes of its stream for too long: cut, its Bedrock call cancelled',
      ),
  };
}

/**
 * The SDK's HTTP/2 request handler (the `ABPROXY_UPSTREAM_HTTP=2` transport, shared by the SDK's
 * commands and our raw calls) with two guards on each answer's body that NodeHttp2Handler lacks:
 * - an idle timeout (ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS, as undici's body timeout on HTTP/1.1): once the
 *   answer began, a stream silent this long is destroyed with a TimeoutError (the fault table's
 *   timeout_error), so a stalled Bedrock stream is cut rather than kept open for ever by our pings to
 *   the client. Before the answer's headers, the handler's own request timeout applies instead
 *   (ABPROXY_UPSTREAM_ANSWER_TIMEOUT_MS: Bedrock may think for minutes, not for ever).
 * - when the connection closes under a begun answer without an error (a FIN, no GOAWAY, no
 *   RST_STREAM), Node's HTTP/2 stream pushes its end as if the answer were complete, so a stream cut
 *   between two events would pass for a finished one. Here such a body fails instead, with
 *   ERR_HTTP2_STREAM_ERROR (a network fault in the fault table), as the HTTP/1.1 transport fails a body
 *   cut short.
 */
import { NodeHttp2Handler, type NodeHttp2HandlerOptions } from '@smithy/node-http-handler';

/** The parts of a ClientHttp2Stream this guard uses. */
interface H2Body {
  push(chunk: unknown, encoding?: BufferEncoding): boolean;
  setTimeout(ms: number, callback?: () => void): unknown;
  removeAllListeners(event: 'timeout'): unknown;
  destroy(err?: Error): unknown;
  readonly closed: boolean;
  readonly destroyed: boolean;
}

const isH2Body = (body: unknown): body is H2Body =>
  typeof body === 'object' &&
  body !== null &&
  typeof (body as H2Body).push === 'function' &&
  'rstCode' in body &&
  'closed' in body;

function cutShort(): Error {
  return Object.assign(new Error('The HTTP/2 connection to Bedrock closed before the answer ended'), {
    code: 'ERR_HTTP2_STREAM_ERROR',
  });
}

/**
 * Fails `body` when its end comes from the stream closing rather than from Bedrock's END_STREAM: the
 * end of a complete answer is pushed while the stream is still open (it closes after), a cut one's
 * only once it is closed.
 */
function failWhenCut(body: H2Body): void {
  const push = body.push;
  let ended = false;
  body.push = (chunk, encoding) => {
    if (chunk === null && !ended) {
      ended = true;
      if (body.closed && !body.destroyed) {
        // Not now: Node pushes this end from its stream-close callback and reads the stream's session
        // right after; a stream destroyed inside the push has none (TypeError 'Symbol(type)', thrown
        // from Node's own code: the process would crash). Nothing is pushed meanwhile.
        process.nextTick(() => body.destroy(cutShort()));
        return false;
      }
    }
    return push.call(body, chunk, encoding);
  };
}

function idle(ms: number): Error {
  return Object.assign(
    new Error(`Bedrock's answer began, then nothing came for ${ms} ms (ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS)`),
    { name: 'TimeoutError' },
  );
}

export class GuardedHttp2Handler extends NodeHttp2Handler {
  readonly #idleTimeoutMs: number;

  /** `idleTimeoutMs`: a begun answer silent this long is cut; 0: never. */
  constructor(options: NodeHttp2HandlerOptions, idleTimeoutMs: number) {
    super(options);
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  override async handle(
    ...args: Parameters<NodeHttp2Handler['handle']>
  ): ReturnType<NodeHttp2Handler['handle']> {
    const out = await super.handle(...args);
    const body: unknown = out.response.body;
    if (isH2Body(body)) {
      failWhenCut(body);
      const ms = this.#idleTimeoutMs;
      // The answer began: the handler's request timeout (the wait for it) gives way to the idle
      // timeout. Left in place, its callback would close the stream first, as if cut, not timed out.
      body.removeAllListeners('timeout');
      // Inactivity of this stream only (not the session's other calls); cleared when it closes.
      body.setTimeout(ms, ms > 0 ? () => body.destroy(idle(ms)) : undefined);
    }
    return out;
  }
}

/**
 * Cleartext HTTP/2 (prior knowledge) on the gateway's HTTP/1.1 port. The AWS SDK for JavaScript v3
 * talks HTTP/2 to bedrock-runtime (NodeHttp2Handler), and against an `http://` endpoint — a solo
 * `abproxy serve` used as AWS_ENDPOINT_URL_BEDROCK_RUNTIME — that means h2c with no upgrade: without
 * this, the Bedrock-format door answers that SDK with "Protocol error". The first bytes of a connection
 * decide: the HTTP/2 preface goes to an http2 server with the same request handler (its compatibility
 * request/response objects), anything else to the HTTP/1.1 server as before.
 */
import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { isDoorPath } from '../bedrock/paths.ts';
import { newRequestId } from '../middleware/request-id.ts';
import { answerRefusal, clientErrorAnswer, clientErrorResponse } from './client-error.ts';
import { holdContinue } from './expect-continue.ts';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n');

export interface H2cAcceptor {
  /** Closes every HTTP/2 session (their sockets are not the HTTP/1.1 server's to close). */
  closeAll(): void;
}

export interface H2cOptions {
  /** A session (or a connection that has not spoken yet) with no traffic this long is closed; 0: never. */
  idleTimeoutMs: number;
  /**
   * A stream must have sent its whole request (headers and body) within this time, as the HTTP/1.1
   * server's requestTimeout demands of a connection; else 408 and the stream is reset. 0: never.
   */
  requestTimeoutMs: number;
  /**
   * A connection that has sent nothing yet is a request whose headers have not arrived: it gets the
   * HTTP/1.1 server's headers timeout (node's own server answers such a silent socket 408 then, but this
   * acceptor holds it before node sees it). 0: only the idle timeout.
   */
  headersTimeoutMs: number;
  /**
   * A session with no stream open this long is closed (GOAWAY), as the HTTP/1.1 server closes an idle
   * keep-alive connection; until its first request it gets `headersTimeoutMs` instead. 0: only the idle
   * timeout.
   */
  keepAliveTimeoutMs: number;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * The request timeout on one HTTP/2 stream. Node's requestTimeout only watches HTTP/1.1 sockets: without
 * this, a stream that trickles its body (or stops sending it) holds its handler, its buffered body and
 * the drain for as long as the session sends a frame now and then.
 */
function withRequestTimeout(handler: Handler, timeoutMs: number): Handler {
  if (timeoutMs <= 0) return handler;
  return (req, res) => {
    const stream = (req as unknown as http2.Http2ServerRequest).stream;
    const timer = setTimeout(() => {
      try {
        requestTimedOut(req, res, stream);
      } catch {
        // A stream that closed in between: nothing to answer, and a timer must never throw.
        stream.destroy();
      }
    }, timeoutMs);
    stream.once('close', () => clearTimeout(timer));
    handler(req, res);
  };
}

function requestTimedOut(req: http.IncomingMessage, res: http.ServerResponse, stream: http2.Http2Stream) {
  // The client ended its side (END_STREAM) in time, whether or not the handler has read it all.
  if (stream.destroyed || stream.state.remoteClose) return;
  if (!res.headersSent) {
    const requestId = String(res.getHeader('request-id') ?? newRequestId());
    const door = isDoorPath((req.url ?? '/').split('?')[0]!);
    const { status, headers, body } = clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT', door, requestId);
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
  // RST_STREAM(NO_ERROR) once the answer is out: the client stops sending (RFC 9113 §8.1); the handler
  // sees its request close and lets go of the body read so far.
  stream.close(http2.constants.NGHTTP2_NO_ERROR);
}

/** Streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const H2C_MAX_CONCURRENT_STREAMS = 1000;

/**
 * Header bytes (names and values) one HTTP/2 request may carry: node's HTTP/1.1 limit (16 KiB, its
 * maxHeaderSize). Advertised as SETTINGS_MAX_HEADER_LIST_SIZE, which node does not enforce itself
 * (nghttp2 takes ~64 KiB): checked per request, answered 431 as the HTTP/1.1 server answers.
 */
export const H2C_MAX_HEADER_BYTES = 16 * 1024;

function withHeaderLimit(handler: Handler): Handler {
  return (req, res) => {
    let bytes = 0;
    for (const part of req.rawHeaders) bytes += part.length;
    if (bytes <= H2C_MAX_HEADER_BYTES) return handler(req, res);
    answerRefusal('HPE_HEADER_OVERFLOW', req, res);
    // The client stops sending its body (RFC 9113 §8.1) once the answer is out.
    (req as unknown as http2.Http2ServerRequest).stream.close(http2.constants.NGHTTP2_NO_ERROR);
  };
}

/**
 * Closes a session (GOAWAY) once it has had no stream open for `keepAliveMs` (before its first stream:
 * `firstMs`). Without this only the socket idle timeout (15 min) applied: a session that never completes
 * a header block, or sends only PINGs, held its connection 30× longer than HTTP/1.1 allows. Returns
 * what stops the timer when the session closes.
 */
function closeWhenStreamless(
  session: http2.ServerHttp2Session,
  firstMs: number,
  keepAliveMs: number,
): () => void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    clearTimeout(timer);
    timer =
      ms > 0
        ? setTimeout(() => {
            if (open === 0 && !session.closed) session.close();
          }, ms).unref()
        : undefined;
  };
  arm(firstMs > 0 ? firstMs : keepAliveMs);
  session.on('stream', (stream) => {
    if (open++ === 0) clearTimeout(timer);
    stream.once('close', () => {
      if (--open === 0 && !session.closed) arm(keepAliveMs);
    });
  });
  return () => clearTimeout(timer);
}

/** How long a connection may stay silent before its first bytes: the shorter of the two timeouts set. */
function firstBytesTimeout(idleTimeoutMs: number, headersTimeoutMs: number): number {
  const set = [idleTimeoutMs, headersTimeoutMs].filter((ms) => ms > 0);
  return set.length === 0 ? 0 : Math.min(...set);
}

export function acceptH2c(
  server: http.Server,
  handler: Handler,
  { idleTimeoutMs, requestTimeoutMs, headersTimeoutMs, keepAliveTimeoutMs }: H2cOptions,
): H2cAcceptor {
  const handle = withHeaderLimit(withRequestTimeout(handler, requestTimeoutMs)) as unknown as (
    req: http2.Http2ServerRequest,
    res: http2.Http2ServerResponse,
  ) => void;
  const h2 = http2.createServer(
    // Node advertises 2^32-1 streams per connection: one connection could then hold thousands of pending
    // requests (and their buffered bodies). Clients queue streams beyond this (the SDK's HTTP/2 handler,
    // nghttp2) rather than fail them.
    {
      settings: { maxConcurrentStreams: H2C_MAX_CONCURRENT_STREAMS, maxHeaderListSize: H2C_MAX_HEADER_BYTES },
    },
    handle,
  );
  h2.on('checkContinue', (req, res) => {
    holdContinue(req, res);
    handle(req, res);
  });
  // Node's compatibility layer answers these with a bare status (no body, no request id).
  h2.on('checkExpectation', (req, res) => answerRefusal('EXPECTATION_FAILED', req, res));
  h2.on('connect', (req, res) => answerRefusal('CONNECT_METHOD', req, res));
  // Sessions idle this long are closed, as the HTTP/1.1 server does with its sockets.
  if (idleTimeoutMs > 0) h2.setTimeout(idleTimeoutMs);
  const sessions = new Set<http2.ServerHttp2Session>();
  // Connections that have sent nothing yet belong to neither server: closed here on shutdown, and cut
  // (408) after the headers timeout, as node cuts a connection whose request headers never come.
  const undecided = new Set<net.Socket>();
  h2.on('session', (session) => {
    sessions.add(session);
    const stopTimer = closeWhenStreamless(session, headersTimeoutMs, keepAliveTimeoutMs);
    session.on('close', () => {
      sessions.delete(session);
      stopTimer();
    });
  });
  // The HTTP/1.1 server's own connection listener, called for connections that are not HTTP/2.
  const h1Listeners = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: net.Socket) => {
    undecided.add(socket);
    // Answered as node answers a request whose headers never came: 408, then closed.
    const idle = () =>
      socket.end(clientErrorResponse('ERR_HTTP_REQUEST_TIMEOUT', false, newRequestId()), () =>
        socket.destroy(),
      );
    const silentMs = firstBytesTimeout(idleTimeoutMs, headersTimeoutMs);
    if (silentMs > 0) socket.setTimeout(silentMs, idle);
    const forget = () => undecided.delete(socket);
    socket.once('close', forget);
    socket.once('data', (chunk: Buffer) => {
      undecided.delete(socket);
      // Nothing of this listener stays on a decided socket (thousands stay open between calls).
      socket.off('close', forget);
      socket.setTimeout(0);
      socket.off('timeout', idle);
      socket.pause();
      socket.unshift(chunk);
      const head = chunk.subarray(0, H2_PREFACE.length);
      if (head.length >= 3 && H2_PREFACE.subarray(0, head.length).equals(head)) {
        // The http2 session reads the unshifted bytes itself. Node's http2 server expects sockets that
        // end with the peer's FIN; http.Server's allow half-open ones, and the session would then never
        // hear that the client left (its streams, bodies and handlers held until a timeout).
        socket.allowHalfOpen = false;
        h2.emit('connection', socket);
      } else {
        for (const listener of h1Listeners) listener.call(server, socket);
        socket.resume();
      }
    });
  });
  return {
    closeAll() {
      for (const socket of undecided) socket.destroy();
      for (const session of sessions) session.destroy();
    },
  };
}

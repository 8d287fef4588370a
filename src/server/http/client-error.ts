/**
 * Requests node's HTTP parser refuses before there is a request object (headers over 16 KiB, a
 * malformed request line, headers that never finish): node would write a bare `431`/`400`/`408` with
 * no body. They are answered here in the shape the caller reads: on a Bedrock-door path, Bedrock's
 * (`x-amzn-errortype`, `{"message"}`, `x-amzn-requestid`), which AWS SDKs turn into an exception;
 * elsewhere Anthropic's, with `request-id`.
 *
 * Which path it was: the request line at the start of the packet node was parsing; when that packet is
 * a later piece of the request (a long header split over TCP segments), the first request line seen on
 * the connection stands in (clients keep one connection to one API).
 */

import type http from 'node:http';
import type net from 'node:net';
import { ApiError } from '../../anthropic/errors.ts';
import { toBedrockFault } from '../../upstream/bedrock-faults.ts';
import { isDoorPath } from '../bedrock/paths.ts';
import { newRequestId } from '../middleware/request-id.ts';
import { requestUrl } from './request-target.ts';

// Not an ES import of node:http: that reads every export, and its WebSocket getter loads Node's bundled
// undici (~25 ms of `serve`'s start-up).
const { STATUS_CODES } = process.getBuiltinModule('node:http');

/** The parser's refusals, as the error a client is told (the statuses node itself would send). */
function refusal(code: string | undefined): ApiError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError('invalid_request_error', 'request line and headers exceed 16 KiB', { status: 431 });
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError('request_too_large', 'chunk extensions too large', { status: 413 });
    case 'EXPECTATION_FAILED':
      return new ApiError('invalid_request_error', "only 'Expect: 100-continue' is supported", {
        status: 417,
      });
    case 'CONNECT_METHOD':
      return new ApiError('invalid_request_error', 'Method CONNECT is not allowed: this is not a proxy', {
        status: 405,
      });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError('timeout_error', 'the request was not received in time', { status: 408 });
    default:
      return new ApiError('invalid_request_error', 'malformed HTTP request', { status: 400 });
  }
}

/** `POST /model/x/invoke HTTP/1.1` at the start of `packet` → its path; undefined when there is none. */
export function requestLinePath(packet: Buffer | undefined): string | undefined {
  if (packet === undefined) return undefined;
  // The method and the start of the target are enough to tell a door path.
  const head = packet.subarray(0, 256).toString('latin1');
  const match = /^[A-Z]{3,7} (\/[^ ?\r\n]*)/.exec(head);
  return match?.[1];
}

/** The answer to a request refused before any handler could answer it: status, headers and body. */
export function clientErrorAnswer(
  code: string | undefined,
  door: boolean,
  requestId: string,
): { status: number; headers: Record<string, string>; body: string } {
  const error = refusal(code);
  if (door) {
    const fault = toBedrockFault(error);
    return {
      status: error.status,
      headers: { 'x-amzn-errortype': fault.name, 'x-amzn-requestid': requestId },
      body: JSON.stringify({ message: fault.message }),
    };
  }
  return {
    status: error.status,
    headers: { 'request-id': requestId, 'x-request-id': requestId },
    body: JSON.stringify({ ...error.toJSON(), request_id: requestId }),
  };
}

/** The whole HTTP/1.1 answer (head and body) to a request the parser refused; the connection closes. */
export function clientErrorResponse(code: string | undefined, door: boolean, requestId: string): string {
  const { status, headers, body } = clientErrorAnswer(code, door, requestId);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'content-type: application/json',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Answers the HTTP/1.1 server's client errors as above, instead of node's bare status lines. */
export function answerClientErrors(server: http.Server): void {
  // Whether a connection's first request was for the door.
  const doorConnections = new WeakMap<net.Socket, boolean>();
  // Ahead of node's own connection listener: a 'data' listener added after it makes node's HTTP parser
  // give up reading the socket natively, and every later packet then goes through JS (~20 µs a request).
  // Added before, it sees the first packet (the h2c sniffer hands that one over in JS) and no other.
  server.prependListener('connection', (socket: net.Socket) => {
    socket.once('data', (chunk: Buffer) => {
      const path = requestLinePath(chunk);
      if (path !== undefined) doorConnections.set(socket, isDoorPath(path));
    });
  });
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: net.Socket) => {
    // The request being answered on this connection (node sets `_httpMessage` to null once it is done).
    const current = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
    // Received whole, so the error is about a later, pipelined request: its refusal waits for that answer
    // (written now, it would be read as the answer to the earlier request).
    const pipelined = current?.req.complete === true;
    if (err.code === 'ECONNRESET' || !socket.writable || (current?.headersSent && !pipelined)) {
      socket.destroy();
      return;
    }
    const path = requestLinePath(err.rawPacket);
    const door = path === undefined ? doorConnections.get(socket) === true : isDoorPath(path);
    const refuse = (): unknown =>
      socket.writable
        ? socket.end(clientErrorResponse(err.code, door, newRequestId()), () => socket.destroy())
        : socket.destroy();
    if (current && pipelined) {
      current.once('close', () => (current.writableFinished ? refuse() : socket.destroy()));
      return;
    }
    // Closed once the answer is out (destroying at once could drop it).
    refuse();
  });
  // Node's own answers to these are bare (a 417 with no body, a CONNECT socket closed unanswered).
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) =>
    answerRefusal('EXPECTATION_FAILED', req, res),
  );
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(clientErrorResponse('CONNECT_METHOD', isDoorUrl(req), newRequestId()), () => socket.destroy());
  });
}

/**
 * Answers, through the response object, a request node hands over instead of to the handler (an
 * Expect other than 100-continue; on HTTP/2 also CONNECT), in the shape of its path.
 */
export function answerRefusal(
  code: 'EXPECTATION_FAILED' | 'CONNECT_METHOD' | 'HPE_HEADER_OVERFLOW',
  req: http.IncomingMessage,
  res: http.ServerResponse,
): void {
  const { status, headers, body } = clientErrorAnswer(code, isDoorUrl(req), newRequestId());
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function isDoorUrl(req: http.IncomingMessage): boolean {
  return isDoorPath(requestUrl(req.url).pathname);
}

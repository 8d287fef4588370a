/**
 * One TCP port that speaks HTTP/1.1 and cleartext HTTP/2 (prior knowledge, as the AWS SDK's
 * NodeHttp2Handler does for http:// endpoints). The first bytes decide which server gets the socket.
 */
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';

export type DualHandler = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

export interface DualServer {
  server: net.Server;
  /** TCP connections accepted so far. */
  connectionCount(): number;
  resetConnectionCount(): void;
  closeAll(): void;
}

const H2_PREFACE_START = 'PRI';

/** `refuse` (fault injection): when it says so, each accepted connection is destroyed at once. */
export function createDualServer(handler: DualHandler, refuse?: () => boolean): DualServer {
  const h1 = http.createServer({ keepAliveTimeout: 60_000 }, handler);
  const h2 = http2.createServer({}, handler);
  const sockets = new Set<net.Socket>();
  let accepted = 0;

  const server = net.createServer((socket) => {
    accepted += 1;
    if (refuse?.()) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk.subarray(0, 3).toString('latin1') === H2_PREFACE_START) {
        // The http2 session reads the unshifted bytes itself; resuming here would lose them.
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    });
  });

  return {
    server,
    connectionCount: () => accepted,
    resetConnectionCount: () => {
      accepted = 0;
    },
    closeAll: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * The upstream pool's connections, remembered so that those left idle by a burst can be closed once it
 * is over. Over HTTP/1.1 each concurrent Bedrock call holds a connection, and undici keeps every one
 * open for its keep-alive time (30 s, or what the server's `Keep-Alive` says): after 2,000 concurrent
 * streams, 2,000 idle sockets, each with its undici client, parser and timers (~6 KB of JS heap, plus a
 * TLS session's buffers against real Bedrock), held while nothing runs. The gateway closes them when
 * its burst is over (src/server/http/idle-release.ts), keeping a few warm for the next call.
 *
 * The connector is undici's own (`buildConnector` with the options Pool gives it by default), or the
 * tunnel through the outbound proxy when one applies (proxy.ts); it only records the sockets it made. Closing an idle socket is what a server's keep-alive timeout does: the
 * client reconnects on its next call.
 */
import type { Socket } from 'node:net';
import type { buildConnector as BuildConnector } from 'undici';
import { tunnelConnector } from './proxy.ts';
import { buildConnector } from './undici-core.ts';

/** Connections kept open after a burst, so the next calls need no new handshake. */
export const WARM_CONNECTIONS = 16;

export class ConnectionTracker {
  readonly #sockets = new Set<Socket>();
  /** undici's connector (Pool's `connect` option) that records each socket it opens. */
  readonly connect: BuildConnector.connector;

  /** `proxy`: the outbound proxy every connection goes through (decided once, for the pool's origin). */
  constructor(options: BuildConnector.BuildOptions = {}, proxy?: URL) {
    const connect = proxy ? tunnelConnector(proxy, options) : buildConnector(options);
    this.connect = (opts, callback) =>
      connect(opts, (...args) => {
        const socket = args[1];
        if (socket) {
          this.#sockets.add(socket);
          socket.once('close', () => this.#sockets.delete(socket));
        }
        callback(...args);
      });
  }

  /** Connections open now. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Closes the open connections beyond `keep` (the oldest are kept), unless a call is running or waiting
   * (`busy`): then which of them are idle is not known, and nothing is closed. Returns how many closed.
   */
  closeIdle(keep: number, busy: boolean): number {
    if (busy) return 0;
    let closed = 0;
    let kept = 0;
    for (const socket of this.#sockets) {
      if (kept < keep) {
        kept++;
        continue;
      }
      socket.destroy();
      closed++;
    }
    return closed;
  }
}

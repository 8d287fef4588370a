/**
 * A small forward proxy, as a corporate network has: CONNECT tunnels (counted per target `host:port`)
 * and plain absolute-URL requests (`GET http://host/path`, what Node's agents send for an http target;
 * counted per target too), with optional Basic credentials (anything else gets 407, as Squid answers).
 */
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';

export interface ConnectProxy {
  /** `http://[user:password@]127.0.0.1:port` */
  url: string;
  /** The proxy's URL with other credentials (the wrong ones, for a refusal). */
  urlWith(user: string, password: string): string;
  /** Tunnels opened (2xx answered) per `host:port`. */
  tunnels: Map<string, number>;
  /** Plain (absolute-URL) requests forwarded per `host:port`. */
  forwarded: Map<string, number>;
  /** CONNECTs and requests refused with 407. */
  refused: number;
  /** Every Proxy-Authorization header seen. */
  authorizations: string[];
  close(): Promise<void>;
}

export async function startConnectProxy(
  auth?: { user: string; password: string },
  /** Serve over TLS (an https:// proxy) with this certificate. */
  tls?: { key: Buffer; cert: Buffer },
): Promise<ConnectProxy> {
  const tunnels = new Map<string, number>();
  const forwarded = new Map<string, number>();
  const authorizations: string[] = [];
  const expected = auth && `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  const sockets = new Set<net.Socket>();
  const state = { refused: 0 };

  const allowed = (req: http.IncomingMessage): boolean => {
    const given = req.headers['proxy-authorization'];
    if (given !== undefined) authorizations.push(given);
    if (expected === undefined || given === expected) return true;
    state.refused++;
    return false;
  };
  const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!allowed(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    count(forwarded, target.host);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const onward = http.request(target, { method: req.method, headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    onward.on('error', () => res.destroy());
    req.pipe(onward);
  };
  const server = tls ? https.createServer(tls, handle) : http.createServer(handle);

  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (!allowed(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n',
      );
      return;
    }
    const [host, port] = splitTarget(req.url ?? '');
    const upstream = net.connect(port, host, () => {
      count(tunnels, req.url ?? '');
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
    });
    client.on('close', () => upstream.destroy());
  });
  server.on(tls ? 'secureConnection' : 'connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const scheme = tls ? 'https' : 'http';
  const urlWith = (user: string, password: string) =>
    `${scheme}://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return {
    url: auth ? urlWith(auth.user, auth.password) : `${scheme}://127.0.0.1:${port}`,
    urlWith,
    tunnels,
    forwarded,
    get refused() {
      return state.refused;
    },
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** `host:port` or `[v6]:port`. */
function splitTarget(target: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(target);
  return m ? [m[1]!, Number(m[2])] : [target, 443];
}

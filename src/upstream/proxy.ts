/**
 * The outbound proxy of a corporate network (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, lower case first, as
 * curl, undici's EnvHttpProxyAgent and Node's `proxyEnv` read them): which proxy, if any, a target
 * origin goes through, and an undici connector that reaches the target through it.
 *
 * The choice is made once per pool (one origin), never per call: with no proxy set, the transport is
 * the one it always was. NO_PROXY follows undici's EnvHttpProxyAgent: comma- or space-separated host
 * names, each matching itself and its subdomains (`example.com`, `.example.com`), `*.example.com` its
 * subdomains only, `*` everything, an optional `:port`, IP literals (IPv6 in brackets with a port).
 *
 * Every target is reached through a CONNECT tunnel (TLS to the target over it for https; plain HTTP for
 * an http target, which is what the tests' emulator is): one code path, and the proxy never sees a
 * signed request. Proxy credentials come from the URL's userinfo and are sent only to the proxy, as
 * `Proxy-Authorization: Basic`; the URL is shown everywhere without them (`describeProxy`).
 */
import type { Socket } from 'node:net';
import type { buildConnector as BuildConnector, Dispatcher } from 'undici';
import { ConfigError } from '../config/parsers.ts';
import { buildConnector } from './undici-core.ts';

// Not an ES import of node:http (bedrock.ts says why).
const http = process.getBuiltinModule('node:http');

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

interface NoProxyEntry {
  hostname: string;
  /** 0: any port. */
  port: number;
  /** `*.example.com`: subdomains only, not the apex. */
  wildcard: boolean;
}

/** The proxy variables, read once. */
export interface ProxyEnv {
  httpProxy: URL | undefined;
  httpsProxy: URL | undefined;
  noProxy: readonly NoProxyEntry[];
  /** NO_PROXY as written (for Node's agents, which parse it themselves). */
  noProxyText: string;
}

type Env = Record<string, string | undefined>;

function proxyUrl(name: string, value: string | undefined): URL | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let url: URL;
  try {
    // A bare `host:port` is what many set; curl reads it as http.
    url = new URL(/^[a-z][a-z\d+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new ConfigError(`${name} is not a URL (expected http://[user:password@]host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(
      `${name}: a ${url.protocol.slice(0, -1)} proxy is not supported (http:// or https:// proxies only)`,
    );
  }
  return url;
}

function parseNoProxy(text: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const entry of text.split(/[,\s]/)) {
    if (!entry) continue;
    let hostname: string;
    let port = 0;
    const ipv6WithPort = /^\[(.+)\]:(\d+)$/.exec(entry);
    if (ipv6WithPort) {
      hostname = ipv6WithPort[1]!;
      port = Number.parseInt(ipv6WithPort[2]!, 10);
    } else {
      // A bare IPv6 address has several colons: only `name:port` (one colon) carries a port.
      const unbracketed = entry.replace(/^\[(.+)\]$/, '$1');
      const parsed = (unbracketed.match(/:/g) ?? []).length === 1 && /^(.+):(\d+)$/.exec(unbracketed);
      hostname = parsed ? parsed[1]! : unbracketed;
      port = parsed ? Number.parseInt(parsed[2]!, 10) : 0;
    }
    entries.push({
      hostname: hostname
        .replace(/^\*?\./, '')
        .replace(/^(.+)\.$/, '$1')
        .toLowerCase(),
      port,
      wildcard: entry.startsWith('*'),
    });
  }
  return entries;
}

/** The proxy variables of `env` (lower case first). Throws on a proxy URL it cannot use. */
export function readProxyEnv(env: Env = process.env): ProxyEnv {
  const noProxyText = env.no_proxy ?? env.NO_PROXY ?? '';
  return {
    httpProxy: proxyUrl('HTTP_PROXY', env.http_proxy ?? env.HTTP_PROXY),
    httpsProxy: proxyUrl('HTTPS_PROXY', env.https_proxy ?? env.HTTPS_PROXY),
    noProxy: parseNoProxy(noProxyText),
    noProxyText,
  };
}

/** Whether any proxy is set at all. */
export function anyProxy(env: ProxyEnv): boolean {
  return env.httpProxy !== undefined || env.httpsProxy !== undefined;
}

function bypassed(entries: readonly NoProxyEntry[], hostname: string, port: number): boolean {
  for (const entry of entries) {
    if (entry.port && entry.port !== port) continue;
    if (entry.hostname === '*') return true;
    if (!entry.wildcard && hostname === entry.hostname) return true;
    if (hostname.endsWith(`.${entry.hostname}`)) return true;
  }
  return false;
}

/**
 * The proxy `origin` goes through, or undefined when it goes direct: HTTPS_PROXY for https targets
 * (HTTP_PROXY when only that is set, as undici does), HTTP_PROXY for http ones, none when NO_PROXY
 * names the host (and port).
 */
export function proxyFor(env: ProxyEnv, origin: string | URL): URL | undefined {
  const url = typeof origin === 'string' ? new URL(origin) : origin;
  const proxy = url.protocol === 'https:' ? (env.httpsProxy ?? env.httpProxy) : env.httpProxy;
  if (proxy === undefined) return undefined;
  let hostname = url.hostname.replace(/^\[(.+)\]$/, '$1').toLowerCase();
  // `example.com.` is `example.com`.
  if (hostname.length > 1 && hostname.endsWith('.')) hostname = hostname.slice(0, -1);
  const port = Number.parseInt(url.port, 10) || DEFAULT_PORTS[url.protocol] || 0;
  return bypassed(env.noProxy, hostname, port) ? undefined : proxy;
}

/**
 * Node's http/https Agent option (`proxyEnv`, Node ≥ 24.5) for the same variables, normalised (one
 * spelling each), or nothing when no proxy is set: agents without a proxy stay as they were. Node's
 * agents forward plain-HTTP requests to the proxy and tunnel HTTPS ones.
 */
export function agentProxyEnv(env: ProxyEnv): { proxyEnv?: Record<string, string> } {
  if (!anyProxy(env)) return {};
  const proxyEnv: Record<string, string> = {};
  if (env.httpProxy) proxyEnv.HTTP_PROXY = proxyHref(env.httpProxy);
  // Node's agents take HTTPS_PROXY alone for https targets; ours fall back to HTTP_PROXY (undici's rule).
  const httpsProxy = env.httpsProxy ?? env.httpProxy;
  if (httpsProxy) proxyEnv.HTTPS_PROXY = proxyHref(httpsProxy);
  const noProxy = nodeNoProxy(env.noProxy);
  if (noProxy) proxyEnv.NO_PROXY = noProxy;
  return { proxyEnv };
}

/**
 * NO_PROXY in the grammar of Node's agents, so they bypass what `proxyFor` bypasses: Node splits on
 * commas only, and matches `example.com` to that host alone (`.example.com` is the host and its
 * subdomains, `*.example.com` subdomains only, `host:port` that host and port only). Node cannot say
 * `*:port` or a suffix with a port: those entries keep only what it can say.
 */
export function nodeNoProxy(entries: readonly NoProxyEntry[]): string {
  const out: string[] = [];
  for (const { hostname, port, wildcard } of entries) {
    if (hostname === '*') {
      if (port === 0) out.push('*');
      continue;
    }
    if (port !== 0) out.push(`${hostname}:${port}`);
    else out.push(wildcard ? `*.${hostname}` : `.${hostname}`);
  }
  return out.join(',');
}

/**
 * The proxy URL as Node's agents and undici's ProxyAgent take it: both percent-decode the credentials
 * with decodeURIComponent, which throws on a stray `%` (a password `100%pure`); re-encoded, they decode
 * to what the tunnel connector sends (`decoded`).
 */
export function proxyHref(proxy: URL): string {
  if (!proxy.username && !proxy.password) return proxy.href;
  const url = new URL(proxy.href);
  url.username = encodeURIComponent(decoded(proxy.username));
  url.password = encodeURIComponent(decoded(proxy.password));
  return url.href;
}

/**
 * Options for an AWS SDK client's `requestHandler` (NodeHttpHandler builds its agents from them) that
 * carry the proxy, or none when no proxy is set.
 */
export function sdkHandlerProxyOptions(env: ProxyEnv): { httpAgent?: object; httpsAgent?: object } {
  const proxy = agentProxyEnv(env);
  if (!proxy.proxyEnv) return {};
  return { httpAgent: { keepAlive: true, ...proxy }, httpsAgent: { keepAlive: true, ...proxy } };
}

/**
 * Options for the AWS credential chain (`fromNodeProviderChain`, `fromIni`) that send its own AWS calls
 * through the proxy too: SSO and its token refresh, STS for a profile's role or web identity. Without
 * them an `aws sso login` profile behind a proxy never resolves. The instance and container metadata
 * endpoints are not SDK clients and stay direct (link-local, never behind a proxy).
 */
export function credentialChainProxyOptions(env: ProxyEnv): { clientConfig?: { requestHandler: object } } {
  const handler = sdkHandlerProxyOptions(env);
  return handler.httpsAgent ? { clientConfig: { requestHandler: handler } } : {};
}

/**
 * One line on which proxy a Bedrock origin goes through, for the start-up log and `abproxy doctor`:
 * never the proxy's credentials. Undefined when no proxy is set.
 */
export function proxySummary(env: ProxyEnv, origin: string): string | undefined {
  if (!anyProxy(env)) return undefined;
  const proxy = proxyFor(env, origin);
  const host = new URL(origin).host;
  const noProxy = env.noProxyText.trim() ? ` (NO_PROXY: ${env.noProxyText.trim()})` : '';
  return proxy
    ? `${host} through the outbound proxy ${describeProxy(proxy)}${noProxy}`
    : `${host} directly: NO_PROXY names it${noProxy}`;
}

/** The proxy URL as it may be shown: scheme, host and port, credentials never. */
export function describeProxy(proxy: URL): string {
  const auth = proxy.username || proxy.password ? '***@' : '';
  return `${proxy.protocol}//${auth}${proxy.host}`;
}

/** Percent-decoded; a stray `%` (not an escape) is taken as it is, as curl does. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `Proxy-Authorization` from the URL's userinfo (percent-decoded), or none. */
function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const user = decoded(proxy.username);
  const password = decoded(proxy.password);
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/**
 * The proxy answered the CONNECT with something other than 2xx: 407 (its credentials are missing or
 * wrong), 403 (its policy refuses the host), 5xx (it could not reach the target). Not a connection
 * fault: retrying at once on a new connection would be refused the same way.
 */
export class ProxyRefusedError extends Error {
  readonly status: number;

  constructor(proxy: URL, target: string, status: number) {
    const reason = http.STATUS_CODES[status] ?? 'unknown status';
    const hint =
      status === 407
        ? ': check the user and password in HTTPS_PROXY / HTTP_PROXY'
        : status === 403
          ? ': its policy does not allow this host'
          : '';
    const what = status >= 500 ? 'could not open a tunnel to' : 'refused the tunnel to';
    super(`the outbound proxy ${describeProxy(proxy)} ${what} ${target} (HTTP ${status} ${reason})${hint}`);
    // 5xx: the proxy could not reach the target (a network fault further on); else a refusal.
    this.name = status >= 500 ? 'OutboundProxyFailed' : 'OutboundProxyRefused';
    this.status = status;
  }
}

/** undici's connector type. */
type Connector = BuildConnector.connector;

/**
 * An undici connector that opens each connection through `proxy`: a connection to the proxy (TLS for an
 * https:// proxy), a CONNECT to the target, then what undici's own connector does on a socket (TLS to
 * the target, with `options`: ALPN, timeout, sessions), so the socket undici gets is the same kind it
 * would get directly.
 */
export function tunnelConnector(proxy: URL, options: BuildConnector.BuildOptions = {}): Connector {
  const toProxy = buildConnector({ ...options, allowH2: false });
  const overTunnel = buildConnector(options);
  const authorization = proxyAuthorization(proxy);
  const proxyPort = Number.parseInt(proxy.port, 10) || DEFAULT_PORTS[proxy.protocol]!;
  const proxyHost = proxy.hostname.replace(/^\[(.+)\]$/, '$1');
  const timeoutMs = options.timeout ?? 10_000;

  return (opts, callback) => {
    const target = `${opts.hostname.includes(':') ? `[${opts.hostname}]` : opts.hostname}:${opts.port || DEFAULT_PORTS[opts.protocol]}`;
    toProxy(
      {
        hostname: proxyHost,
        host: proxy.host,
        protocol: proxy.protocol,
        port: String(proxyPort),
        // No servername: undici's connector names the proxy in TLS from `host`, and leaves an IP unnamed.
      } as Parameters<Connector>[0],
      (err, socket) => {
        if (err || !socket) {
          callback(unreachable(err ?? new Error('no socket'), proxy), null);
          return;
        }
        openTunnel(socket, target, authorization, timeoutMs, proxy, (tunnelErr, tunnel) => {
          if (tunnelErr || !tunnel) {
            callback(tunnelErr ?? new Error('no tunnel'), null);
            return;
          }
          if (opts.protocol !== 'https:') {
            callback(null, tunnel);
            return;
          }
          overTunnel({ ...opts, httpSocket: tunnel }, callback);
        });
      },
    );
  };
}

/**
 * The undici Pool option that sends `origin` through its proxy, or none: for pools made outside the
 * runtime transport (the mantle model list).
 */
export function proxiedConnect(env: ProxyEnv, origin: string): { connect?: Connector } {
  const proxy = proxyFor(env, origin);
  return proxy ? { connect: tunnelConnector(proxy) } : {};
}

/** A failure to reach the proxy itself keeps its code (a connection fault is retried) and names it. */
function unreachable(err: Error, proxy: URL): Error {
  err.message = `the outbound proxy ${describeProxy(proxy)}: ${err.message}`;
  return err;
}

/** Sends CONNECT on `socket` and hands back the socket once the proxy answered 2xx. */
function openTunnel(
  socket: Socket,
  target: string,
  authorization: string | undefined,
  timeoutMs: number,
  proxy: URL,
  done: (err: Error | null, tunnel: Socket | null) => void,
): void {
  let settled = false;
  const finish = (err: Error | null, tunnel: Socket | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (err) socket.destroy();
    done(err, tunnel);
  };
  const timer = setTimeout(() => {
    const err = new Error(`the outbound proxy ${describeProxy(proxy)} did not answer CONNECT ${target}`);
    Object.assign(err, { code: 'ETIMEDOUT' });
    finish(err, null);
  }, timeoutMs);
  const request = http.request({
    method: 'CONNECT',
    path: target,
    headers: {
      host: target,
      // Node would say `Connection: close` (no agent), which a strict proxy may take for the tunnel's end.
      connection: 'keep-alive',
      ...(authorization === undefined ? {} : { 'proxy-authorization': authorization }),
    },
    // No agent: the request goes on this socket (`agent: false` would open another).
    createConnection: () => socket,
  });
  request.once('connect', (res, tunnel, head) => {
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      finish(new ProxyRefusedError(proxy, target, status), null);
      return;
    }
    // Bytes the proxy sent after its answer belong to the target's stream.
    if (head.length > 0) tunnel.unshift(head);
    finish(null, tunnel);
  });
  // The proxy closed or answered something that is not HTTP: a connection fault, retried as one.
  request.once('error', (err) => finish(unreachable(err, proxy), null));
  request.end();
}

let envDispatcher: { key: string; dispatcher: Dispatcher | undefined } | undefined;

/**
 * An undici dispatcher for the calls made with undici's `request`/`fetch` rather than a Bedrock
 * transport (web search providers, the company IdP): its EnvHttpProxyAgent applies the same rules per
 * call. Undefined (undici's default dispatcher) when no proxy is set. Made again only if the variables
 * change (tests do).
 */
export async function envProxyDispatcher(): Promise<Dispatcher | undefined> {
  const env = readProxyEnv();
  const key = `${env.httpProxy?.href} ${env.httpsProxy?.href} ${env.noProxyText}`;
  if (envDispatcher?.key !== key) {
    // undici's index (~110 modules) loads with the first such call, not with the gateway.
    const { EnvHttpProxyAgent } = await import('undici');
    const httpsProxy = env.httpsProxy ?? env.httpProxy;
    envDispatcher = {
      key,
      dispatcher: anyProxy(env)
        ? new EnvHttpProxyAgent({
            ...(env.httpProxy ? { httpProxy: proxyHref(env.httpProxy) } : {}),
            ...(httpsProxy ? { httpsProxy: proxyHref(httpsProxy) } : {}),
            noProxy: env.noProxyText,
          })
        : undefined,
    };
  }
  return envDispatcher.dispatcher;
}

/**
 * startServer: builds the gateway from a Config and listens. Used by `abproxy serve` and by the tests.
 * close() drains: new requests get 503 (see answerWhileDraining) while in-flight requests finish (up to
 * shutdownTimeoutMs), then the rest are cut, the listener closes and the onDrain hooks run.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminRoutes } from '../../admin/routes.ts';
import { GuessThrottle } from '../../auth/guess-throttle.ts';
import { KeyVerifier } from '../../auth/verifier.ts';
import {
  authRequired,
  type Config,
  ConfigError,
  isLoopbackHost,
  weakSigningSecretWarning,
} from '../../config/config.ts';
import { resolveSigningSecret } from '../../config/secret.ts';
import type { GatewayMetrics } from '../../metrics/metrics.ts';
import { ServerStats } from '../../metrics/stats.ts';
import { Catalogue } from '../../models/catalogue.ts';
import { CLAUDE_FEATURE_TABLE, mergeClaudeFeatureOverrides } from '../../models/claude-features.ts';
import { createSignIn, type SignInOverrides } from '../../signin/setup.ts';
import { openStore } from '../../store/open.ts';
import type { Store } from '../../store/types.ts';
import { startTelemetry } from '../../telemetry/tracing.ts';
import { createWebTools } from '../../tools/web/index.ts';
import { webToolLimiter, webToolQuota } from '../../tools/web/quota.ts';
import type { WebTools } from '../../tools/web/types.ts';
import { connectionWaitReporter } from '../../upstream/connection-waits.ts';
import { runtimeOrigin } from '../../upstream/endpoint.ts';
import type { PoolObserver } from '../../upstream/pool.ts';
import { registerPoolMetrics } from '../../upstream/pool-metrics.ts';
import { proxySummary, readProxyEnv } from '../../upstream/proxy.ts';
import type { UpstreamTrace } from '../../upstream/trace.ts';
import { createUpstreams } from '../../upstream/upstream-set.ts';
import { createApp } from '../app.ts';
import type { CatalogueView, Upstream } from '../deps.ts';
import { ThreadStore } from '../messages/threads.ts';
import { createAccounting } from '../middleware/accounting.ts';
import { upstreamFaultWarning } from '../middleware/outage-warning.ts';
import { newRequestId } from '../middleware/request-id.ts';
import { answerWhileDraining } from '../routes/health.ts';
import { bodyRefusalReporter, newBodyBudget } from './body-budget.ts';
import { answerClientErrors } from './client-error.ts';
import type { Ctx } from './context.ts';
import { holdContinue } from './expect-continue.ts';
import { acceptH2c } from './h2c.ts';
import { idleRelease } from './idle-release.ts';
import { ListenError } from './listen-error.ts';
import { briefError, createLogger, type Logger, warnBriefly } from './logger.ts';
import { requestUrl } from './request-target.ts';

// Not an ES import of node:http: that reads every export, and its WebSocket getter loads Node's bundled
// undici (~25 ms of `serve`'s start-up).
const { createServer } = process.getBuiltinModule('node:http');

export interface StartServerOptions {
  logger?: Logger;
  /** Replaces the Bedrock client (tests); a real one is built from config otherwise. */
  upstream?: Upstream;
  catalogue?: CatalogueView;
  signingSecret?: string;
  /** Keys and usage; opened from config (mode, db file, table prefix) otherwise, and closed on stop. */
  store?: Store;
  /** Hooks awaited at the end of a drain, after in-flight requests (e.g. flush pending usage records). */
  onDrain?: DrainHook[];
  /** Counters for the serve dashboard; a fresh one otherwise. */
  stats?: ServerStats;
  /** The secret /health proves possession of (written to the state file by `serve`). */
  instanceSecret?: string;
  /** Where the built admin page is (dist/admin/ by default). */
  adminAssetsDir?: string;
  /** Sign-in test hooks (a shorter poll interval). */
  signIn?: SignInOverrides;
  /** Search provider and page fetcher for web_search / web_fetch (tests); built from config otherwise. */
  webTools?: WebTools;
}

const CATALOGUE_FAILED = 'Bedrock model catalogue refresh failed';

/**
 * The mantle host's model list is a bonus (models only mantle serves): a region or account without it
 * is normal, so this is said at info, once per refresh, and the runtime catalogue serves on.
 */
function mantleListFailed(log: Logger, upstream: string, region: string, err: unknown): void {
  log.info(
    { upstream, region, ...briefError(err) },
    'bedrock-mantle model list not read; models only mantle serves are unknown until the next refresh',
  );
}

/**
 * Which outbound proxy the Bedrock runtime calls go through (HTTPS_PROXY / HTTP_PROXY / NO_PROXY), said
 * once at start-up so an operator can tell; the proxy's credentials never appear. Nothing when unset.
 */
function logOutboundProxy(log: Logger, config: Config): void {
  const proxies = readProxyEnv();
  const origins = config.upstreams
    ? config.upstreams.map((u) => runtimeOrigin(u.region, u.endpoint))
    : [runtimeOrigin(config.region)];
  for (const origin of new Set(origins)) {
    let line: string | undefined;
    try {
      line = proxySummary(proxies, origin);
    } catch {
      continue; // an endpoint that is no URL: its own error says so
    }
    if (line) log.info(`Bedrock runtime: ${line}`);
  }
}

/** How often expired grants, sessions and tokens are deleted from SQLite (DynamoDB's TTL does it there). */
const SIGNIN_SWEEP_MS = 10 * 60_000;

export type DrainHook = () => void | Promise<void>;

/** Drain hooks get what is left of the drain budget, but never less than this. */
const MIN_HOOK_BUDGET_MS = 5_000;

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 (the real port when config.port was 0). */
  url: string;
  port: number;
  server: http.Server;
  /** The store that authenticates keys (solo SQLite or team DynamoDB). */
  store: Store;
  /** Live counters (requests, tokens, TTFT, errors, active streams) for the serve dashboard. */
  stats: ServerStats;
  /** Drains: resolves when in-flight requests finished (or were cut), clients are closed and hooks ran. */
  close(): Promise<void>;
  /** Adds a hook that close() awaits after the last in-flight request (usage flush). */
  onDrain(hook: DrainHook): void;
  /** True from the first close() on. */
  isDraining(): boolean;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Slow clients cannot hold sockets and buffers: headers and the whole request must arrive in time
 * (node answers 408 and closes), idle keep-alive sockets close. The request timeout ends when the
 * request has been received, so it never cuts a long answer or stream.
 */
function serverTimeouts(config: Config): http.ServerOptions {
  return {
    headersTimeout: config.headersTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // A missing Host is answered by the host guard in the caller's shape (node's own 400 is bare).
    requireHostHeader: false,
    // How often node checks the two deadlines above (its default, 30 s, would stretch them).
    connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.headersTimeoutMs / 4))),
  };
}

/** Pending connections the kernel queues for accept(). */
const LISTEN_BACKLOG = 4096;

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new ListenError(`port ${port} on ${host} is already in use`));
      else if (err.code === 'EACCES') reject(new ListenError(`no permission to listen on ${host}:${port}`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ListenError(`address ${host} is not available here`));
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // Thousands of clients may connect at once (a fleet of Claude Code sessions reconnecting): node's
    // default backlog (511) drops the rest of a burst's SYNs, and each dropped one waits 1 s for the
    // client's retransmit. The kernel caps it at net.core.somaxconn.
    server.listen({ port, host, backlog: LISTEN_BACKLOG });
  });
}

/** With several upstreams: which one served the call, as a response header and on the Ctx for usage. */
function upstreamTrace(ctx: Ctx): UpstreamTrace {
  return {
    failedAttempts: 0,
    onServed: (name) => {
      if (!ctx.res.headersSent) ctx.res.setHeader('x-abproxy-upstream', name);
    },
  };
}

export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const requireKey = authRequired(config);
  const loopback = isLoopbackHost(config.host);
  const log = options.logger ?? createLogger(config.logLevel, config.apiKeyHeader);
  // Stretched from the master key on libuv's threads while the store and tables open (awaited below).
  const signingSecretReady = options.signingSecret
    ? Promise.resolve(options.signingSecret)
    : resolveSigningSecret(config);
  signingSecretReady.catch(() => {}); // awaited below; a failure before then must not crash the process
  const weakSecret = options.signingSecret ? undefined : weakSigningSecretWarning(config);
  if (weakSecret) log.warn(weakSecret);
  let metrics: GatewayMetrics | undefined;
  let poolObserver: PoolObserver | undefined;
  // Undefined (and the SDK never imported) unless OTEL_* settings switch traces on.
  const telemetry = await startTelemetry(config, log);
  const wrapRuntime =
    telemetry &&
    ((runtime: Upstream, u: { name: string; region: string }) => telemetry.wrapRuntime(runtime, u));
  const owned = options.upstream
    ? undefined
    : createUpstreams(config, {
        onConnectionWait: connectionWaitReporter(log, () => metrics),
        observer: { attempt: (...args) => poolObserver?.attempt(...args), fault: upstreamFaultWarning(log) },
        ...(wrapRuntime ? { wrapRuntime } : {}),
        onCatalogueError: (err, upstream, region) =>
          warnBriefly(log, { upstream, region }, err, CATALOGUE_FAILED),
        onMantleListError: (err, upstream, region) => mantleListFailed(log, upstream, region, err),
      });
  if (owned) logOutboundProxy(log, config);
  const upstream =
    (options.upstream && wrapRuntime
      ? wrapRuntime(options.upstream, { name: 'default', region: config.region })
      : options.upstream) ?? owned!.runtime;
  const pool = owned?.pool;
  const ownedStore = options.store ? undefined : await openStore(config);
  const store = options.store ?? ownedStore!;
  await checkTeamTables(ownedStore, config, log);
  const signingSecret = await signingSecretReady;
  // The public URL defaults to the listen address, known once listening.
  let listenUrl = '';
  const publicUrl = () => config.publicUrl ?? listenUrl;
  let signIn: ReturnType<typeof createSignIn>;
  try {
    signIn = createSignIn(config, store, publicUrl, options.signIn, log);
  } catch (err) {
    owned?.destroy();
    await ownedStore?.close();
    await telemetry?.shutdown();
    throw err;
  }
  // Solo: `keys revoke` runs in another process and must bite at once; a SQLite lookup is cheap.
  const verifier = new KeyVerifier({
    store,
    masterKey: config.masterApiKey,
    cacheMs: store.mode === 'solo' ? 0 : config.keyCacheMs,
    tokens: signIn?.service,
  });
  const catalogue =
    options.catalogue ??
    owned?.catalogue ??
    new Catalogue({
      region: owned?.catalogueRegion ?? config.region,
      clientFor: (region) => owned!.control(region),
      onError: (err, region) => warnBriefly(log, { upstream: 'default', region }, err, CATALOGUE_FAILED),
      mantleModels: (region) => owned!.mantleModels(region),
      onMantleError: (err, region) => mantleListFailed(log, 'default', region, err),
    });

  let claudeFeatures = CLAUDE_FEATURE_TABLE;
  try {
    claudeFeatures = mergeClaudeFeatureOverrides(CLAUDE_FEATURE_TABLE, config.claudeFeatures);
  } catch (err) {
    throw new ConfigError(`ABPROXY_CLAUDE_FEATURES: ${(err as Error).message}`);
  }

  const accounting = createAccounting(config, store, log);
  metrics = accounting.metrics;
  if (pool) poolObserver = registerPoolMetrics(metrics.registry, pool);
  const stats = options.stats ?? new ServerStats();
  if (pool) stats.watchUpstreams(() => pool.health());
  let draining = false;
  let inFlight = 0;
  const release = idleRelease({
    quietMs: config.idleGcMs,
    ...(owned ? { closeIdle: () => owned.closeIdle() } : {}),
    onRelease: ({ beforeBytes, afterBytes, ms, closed }) =>
      log.debug(
        { rssBefore: beforeBytes, rssAfter: afterBytes, ms: Math.round(ms), closedConnections: closed },
        'idle: memory released',
      ),
  });
  let idle: (() => void) | undefined;
  // One count of wrong secrets per address for the admin sign-in form and every API route.
  const guesses = new GuessThrottle();
  const admin = adminRoutes({
    guesses,
    config,
    store,
    hasKeys: () => verifier.hasKeys(),
    catalogue,
    stats,
    signingSecret,
    loopback,
    isDraining: () => draining,
    assetsDir: options.adminAssetsDir,
  });
  const app = createApp(
    {
      config,
      signingSecret,
      upstream,
      catalogue,
      claudeFeatures,
      stats,
      webTools: options.webTools ?? createWebTools(config),
      bodyBudget: newBodyBudget(
        config,
        bodyRefusalReporter(log, () => metrics),
      ),
      webQuota: webToolQuota({
        limiter: webToolLimiter(store, (err) => log.warn({ err }, 'web search daily counter failed')),
      }),
      threads:
        config.threadsMaxBytes > 0
          ? new ThreadStore(config.threadsMaxBytes, { maxThreadBytes: config.maxBodyBytes })
          : undefined,
    },
    {
      requireKey,
      loopback,
      verifier,
      isDraining: () => draining,
      accounting,
      instanceSecret: options.instanceSecret,
      admin,
      guesses,
      signIn,
      tracing: telemetry,
    },
  );

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    const ctx: Ctx = {
      req,
      res,
      url: requestUrl(req.url),
      requestId: newRequestId(),
      log,
      params: {},
    };
    release.started(++inFlight);
    res.once('close', () => {
      inFlight--;
      release.finished(inFlight);
      if (inFlight === 0) idle?.();
      stats.finished(ctx, req.method ?? '', ctx.url.pathname, res.statusCode, started, ctx.key?.id);
      // The line's object is only built when debug logging is on (not on every request).
      if (log.isLevelEnabled('debug'))
        log.debug(
          {
            requestId: ctx.requestId,
            method: req.method,
            // The path only: a query string may carry a key (`?key=`) some client put there.
            path: ctx.url.pathname,
            status: res.statusCode,
            ms: Math.round(performance.now() - started),
            ...(ctx.traceId ? { traceId: ctx.traceId } : {}),
          },
          'request',
        );
    });
    if (draining) {
      answerWhileDraining(ctx);
      return;
    }
    if (pool) ctx.upstream = upstreamTrace(ctx);
    const handled = app(ctx);
    handled.catch((err: unknown) => {
      log.error({ err, requestId: ctx.requestId }, 'request failed outside the error handler');
      res.destroy();
    });
  };
  const server = createServer(serverTimeouts(config), onRequest);
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    holdContinue(req, res);
    onRequest(req, res);
  });
  // Before the h2c split, so that it sees HTTP/1.1 connections only.
  answerClientErrors(server);
  // The AWS SDK for JavaScript speaks HTTP/2 (h2c on http://) to the Bedrock-format door.
  const h2c = acceptH2c(server, onRequest, {
    idleTimeoutMs: config.socketIdleTimeoutMs,
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
  });

  // No traffic either way for this long: the socket is destroyed (its request sees `close` and aborts).
  server.setTimeout(config.socketIdleTimeoutMs);
  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    owned?.destroy();
    await accounting.close();
    await ownedStore?.close();
    await telemetry?.shutdown();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(config.host)}:${port}`;
  listenUrl = url;
  const sweep = signIn
    ? setInterval(() => {
        store.sweepExpired(new Date().toISOString()).catch((err: unknown) => {
          log.warn({ err }, 'sweeping expired sign-in records failed');
        });
      }, SIGNIN_SWEEP_MS).unref()
    : undefined;
  // Warm the catalogue and the runtime's client so the first request waits for neither.
  if (!options.catalogue) void catalogue.snapshot();
  owned?.warm();
  log.info(
    {
      url,
      region: owned?.catalogueRegion ?? config.region,
      ...(pool ? { upstreams: config.upstreams?.map((u) => u.name) } : {}),
      auth: requireKey ? 'required' : 'open on loopback until a key exists',
      store: store.mode,
    },
    'listening',
  );

  // Usage records and budget charges go to the store last, before it closes.
  const hooks: DrainHook[] = [...(options.onDrain ?? []), () => accounting.close()];
  // Spans end when their responses close, so by now every one is queued: flush them and stop.
  if (telemetry) hooks.push(() => telemetry.shutdown());
  const runHooks = async (budgetMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), budgetMs);
    });
    const all = Promise.allSettled(hooks.map(async (hook) => hook())).then((results) => {
      for (const r of results) if (r.status === 'rejected') log.error({ err: r.reason }, 'drain hook failed');
    });
    if ((await Promise.race([all, timeout])) === 'timeout') log.error({ budgetMs }, 'drain hooks timed out');
    clearTimeout(timer);
  };

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      clearInterval(sweep);
      release.stop();
      const deadline = Date.now() + config.shutdownTimeoutMs;
      log.info({ inFlight, timeoutMs: config.shutdownTimeoutMs }, 'draining');
      // The listener stays open while requests are in flight: probes and new calls get a 503.
      if (inFlight > 0) {
        const finished = new Promise<void>((resolve) => {
          idle = resolve;
        });
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, config.shutdownTimeoutMs);
        });
        await Promise.race([finished, timeout]);
        clearTimeout(timer);
        if (inFlight > 0) log.warn({ inFlight }, 'drain timeout: cutting the requests still in flight');
      }
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      h2c.closeAll();
      await stopped;
      await runHooks(Math.max(deadline - Date.now(), MIN_HOOK_BUDGET_MS));
      owned?.destroy();
      await ownedStore?.close();
      log.info('stopped');
    })();
    return closing;
  };
  return {
    url,
    port,
    server,
    store,
    stats,
    close,
    onDrain: (hook) => {
      hooks.push(hook);
    },
    isDraining: () => draining,
  };
}

/**
 * Team mode's tables, checked once at start: missing or made for something else, the gateway would
 * look ready and then fail each key lookup with a bare 500. A store that does not answer now is not
 * a reason to refuse to start (it may come back); that is only logged.
 */
async function checkTeamTables(store: Store | undefined, config: Config, log: Logger): Promise<void> {
  if (!store?.tableProblems) return;
  let problems: string[];
  try {
    problems = await store.tableProblems();
  } catch (err) {
    log.warn({ err: briefError(err) }, 'could not check the DynamoDB tables at start');
    return;
  }
  if (problems.length === 0) return;
  await store?.close();
  throw new ConfigError(
    `team mode's DynamoDB tables in ${config.region}: ${problems.join('; ')}. Run \`abproxy tables setup\` with the same table prefix (${config.tablePrefix}) and region`,
  );
}

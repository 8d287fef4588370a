/**
 * startServer: builds the gateway from a Config and listens. Used by `abproxy serve` and by the tests.
 * close() stops accepting, lets in-flight requests finish (up to shutdownTimeoutMs), then cuts the rest.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { authRequired, type Config, ConfigError, isLoopbackHost } from '../config/config.ts';
import { resolveSigningSecret } from '../config/secret.ts';
import { Catalogue } from '../models/catalogue.ts';
import { CLAUDE_FEATURE_TABLE, mergeClaudeFeatureOverrides } from '../models/claude-features.ts';
import { BedrockUpstream } from '../upstream/bedrock.ts';
import { createApp } from './app.ts';
import type { Ctx } from './context.ts';
import type { CatalogueView, Upstream } from './deps.ts';
import { createLogger, type Logger } from './logger.ts';
import { newRequestId } from './request-id.ts';

export interface StartServerOptions {
  logger?: Logger;
  /** Replaces the Bedrock client (tests); a real one is built from config otherwise. */
  upstream?: Upstream;
  catalogue?: CatalogueView;
  signingSecret?: string;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 (the real port when config.port was 0). */
  url: string;
  port: number;
  server: http.Server;
  /** Resolves when in-flight requests finished (or were cut after the timeout) and clients are closed. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** The request target as a URL; `//x` stays a path (no protocol-relative host). */
function requestUrl(target = '/'): URL {
  try {
    return new URL(`http://gateway.invalid${target.startsWith('/') ? '' : '/'}${target}`);
  } catch {
    return new URL('http://gateway.invalid/');
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new ConfigError(`port ${port} on ${host} is already in use`));
      else if (err.code === 'EACCES') reject(new ConfigError(`no permission to listen on ${host}:${port}`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new ConfigError(`address ${host} is not available here`));
      else reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const requireKey = authRequired(config);
  const loopback = isLoopbackHost(config.host);
  const log = options.logger ?? createLogger(config.logLevel, config.apiKeyHeader);
  const signingSecret = options.signingSecret ?? resolveSigningSecret(config);
  const owned = options.upstream
    ? undefined
    : new BedrockUpstream({
        region: config.region,
        http: config.upstreamHttp,
        maxAttempts: config.upstreamMaxAttempts,
      });
  const upstream = options.upstream ?? owned!;
  const catalogue =
    options.catalogue ??
    new Catalogue({
      region: config.region,
      clientFor: (region) => owned!.control(region),
      onError: (err, region) => log.warn({ err, region }, 'Bedrock model catalogue refresh failed'),
    });

  let claudeFeatures = CLAUDE_FEATURE_TABLE;
  try {
    claudeFeatures = mergeClaudeFeatureOverrides(CLAUDE_FEATURE_TABLE, config.claudeFeatures);
  } catch (err) {
    throw new ConfigError(`ABPROXY_CLAUDE_FEATURES: ${(err as Error).message}`);
  }

  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const app = createApp(
    { config, signingSecret, upstream, catalogue, claudeFeatures },
    { requireKey, loopback, isDraining: () => draining },
  );

  const server = http.createServer((req, res) => {
    const started = performance.now();
    const ctx: Ctx = {
      req,
      res,
      url: requestUrl(req.url),
      requestId: newRequestId(),
      log,
      params: {},
    };
    inFlight++;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
      log.debug(
        {
          requestId: ctx.requestId,
          method: req.method,
          url: req.url,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
        },
        'request',
      );
    });
    if (draining) res.setHeader('connection', 'close');
    app(ctx).catch((err: unknown) => {
      log.error({ err, requestId: ctx.requestId }, 'request failed outside the error handler');
      res.destroy();
    });
  });

  try {
    await listen(server, config.port, config.host);
  } catch (err) {
    owned?.destroy();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(config.host)}:${port}`;
  // Warm the catalogue so the first request does not wait for the control plane.
  if (!options.catalogue) void catalogue.snapshot();
  log.info({ url, region: config.region, auth: requireKey ? 'master key' : 'none (loopback)' }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
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
      }
      server.closeAllConnections();
      await stopped;
      owned?.destroy();
      log.info('stopped');
    })();
    return closing;
  };
  return { url, port, server, close };
}

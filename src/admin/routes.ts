/**
 * The admin page and its JSON API, one route group under /admin: the static page, sign-in (master key
 * form, one-time link from `abproxy admin`, or open on a loopback gateway that has no keys and no master
 * key), keys, usage, a live request feed (SSE), model health and the settings in force.
 * Every answer carries the security headers; every mutation passes the same-origin and CSRF checks.
 */
import { ApiError } from '../anthropic/errors.ts';
import { parseDuration } from '../auth/duration.ts';
import { GuessThrottle } from '../auth/guess-throttle.ts';
import { sameSecret } from '../auth/key-format.ts';
import { type KeySpec, KeySpecError, keyEdit, keyJson, newKeyRecord } from '../auth/key-records.ts';
import { authRequired, type Config } from '../config/config.ts';
import { describeSettings } from '../config/describe-settings.ts';
import type { RecentRequest, ServerStats } from '../metrics/stats.ts';
import type { CatalogueView } from '../server/deps.ts';
import { readJson } from '../server/http/body.ts';
import { clientAddress } from '../server/http/client-address.ts';
import type { Ctx, Handler, Middleware } from '../server/http/context.ts';
import { sendJson } from '../server/http/respond.ts';
import { type Route, router } from '../server/http/router.ts';
import { AmbiguousKeyError, DuplicateKeyError, type Store, type UsageRecord } from '../store/types.ts';
import { GROUPINGS, type GroupBy, inQuery, spooledRecords, summarize } from '../usage/report.ts';
import { spoolDir } from '../usage/spool-dir.ts';
import {
  assertCsrf,
  assertSameOrigin,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
  setSecurityHeaders,
} from './access.ts';
import { type AdminAssets, DEFAULT_ASSETS_DIR, loadAdminAssets } from './assets.ts';
import { LoginTokens } from './login-token.ts';
import { type AdminSession, SessionStore } from './sessions.ts';
import { largestRows, monthStart, usageView } from './usage-view.ts';

export interface AdminDeps {
  config: Config;
  store: Store;
  /** Whether any key exists (the verifier's cached answer). */
  hasKeys: () => Promise<boolean>;
  catalogue: CatalogueView;
  stats?: ServerStats;
  signingSecret: string;
  loopback: boolean;
  isDraining: () => boolean;
  /** The environment the settings came from (to name each env source). */
  env?: Record<string, string | undefined>;
  assetsDir?: string;
  now?: () => number;
  /** Wrong master keys per address, shared with the API's key check (one count wherever guessed). */
  guesses?: GuessThrottle;
}

const MAX_BODY = 64 * 1024;
const LIVE_STATS_MS = 2_000;
const LIVE_BUFFER_BYTES = 256 * 1024;

/** The editable key fields as the API names them (the `keys --json` names) → KeySpec fields. */
const API_FIELDS: Record<string, keyof KeySpec> = {
  name: 'name',
  user: 'user',
  service_tier: 'serviceTier',
  rate_limit_rpm: 'rateLimit',
  tokens_per_minute: 'tokensPerMinute',
  budget_usd: 'budgetUsd',
  concurrent_requests: 'concurrentRequests',
  web_search: 'webSearch',
  web_search_daily: 'webSearchDaily',
  models: 'models',
  expires: 'expires',
};

function specFrom(body: unknown, allowed: readonly string[]): KeySpec {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw ApiError.invalid('expected a JSON object');
  }
  const spec: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (!allowed.includes(name)) throw ApiError.invalid(`unknown field '${name}'`);
    spec[API_FIELDS[name]!] = value;
  }
  return spec as KeySpec;
}

function specError(err: unknown): never {
  if (err instanceof KeySpecError) {
    const name = Object.keys(API_FIELDS).find((k) => API_FIELDS[k] === err.field) ?? err.field;
    throw ApiError.invalid(`${name}: ${err.message}`);
  }
  throw err;
}

function sendText(ctx: Ctx, status: number, text: string): void {
  ctx.res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  ctx.res.end(`${text}\n`);
}

export function adminRoutes(deps: AdminDeps): Middleware {
  const sessions = new SessionStore();
  const tokens = new LoginTokens(deps.signingSecret);
  const throttle = deps.guesses ?? new GuessThrottle();
  const now = deps.now ?? Date.now;
  let assets: AdminAssets | undefined;

  /**
   * Open to the local user: a loopback gateway that asks no key of anyone yet. Never with sign-in: its
   * API then asks everyone for a token, and an open page would mint keys that skip the sign-in policies.
   */
  const isOpen = async () =>
    deps.loopback && !deps.config.oidcIssuer && !authRequired(deps.config) && !(await deps.hasKeys());
  const sessionOf = (ctx: Ctx) => sessions.get(readCookie(ctx.req, SESSION_COOKIE));

  const startSession = (ctx: Ctx): AdminSession => {
    const session = sessions.create();
    ctx.res.setHeader('set-cookie', sessionCookie(ctx.req, session, now()));
    return session;
  };

  const signedIn =
    (handler: (ctx: Ctx, session: AdminSession) => Promise<void>): Handler =>
    async (ctx) => {
      const session = sessionOf(ctx);
      if (!session) throw new ApiError('authentication_error', 'sign in to the admin page first');
      if (ctx.req.method !== 'GET') assertCsrf(ctx.req, session);
      await handler(ctx, session);
    };

  const page: Handler = async (ctx) => {
    assets ??= loadAdminAssets(deps.assetsDir ?? DEFAULT_ASSETS_DIR);
    const index = assets?.get('index.html');
    if (!index) {
      sendText(
        ctx,
        503,
        'The admin page is not built: run `npm run build:admin` (it writes dist/admin/), then reload.',
      );
      return;
    }
    ctx.res.writeHead(200, { 'content-type': index.type, 'content-length': index.body.length });
    ctx.res.end(index.body);
  };

  const asset: Handler = async (ctx) => {
    assets ??= loadAdminAssets(deps.assetsDir ?? DEFAULT_ASSETS_DIR);
    const file = assets?.get(ctx.params.name ?? '');
    if (!file || ctx.params.name === 'index.html') {
      throw new ApiError('not_found_error', `no admin asset '${ctx.params.name}'`);
    }
    ctx.res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
    ctx.res.end(file.body);
  };

  const session: Handler = async (ctx) => {
    let current = sessionOf(ctx);
    if (!current && (await isOpen())) current = startSession(ctx);
    sendJson(ctx.res, 200, {
      signed_in: current !== undefined,
      csrf: current?.csrf ?? null,
      master_key_login: deps.config.masterApiKey !== undefined && deps.config.masterApiKey !== '',
    });
  };

  /** The master key from the form, or a one-time token from an `abproxy admin` link. */
  const login: Handler = async (ctx) => {
    assertSameOrigin(ctx.req);
    const body = (await readJson(ctx.req, MAX_BODY)) as { master_key?: unknown; token?: unknown };
    if (typeof body?.token === 'string') {
      if (!tokens.redeem(body.token)) {
        throw new ApiError(
          'authentication_error',
          'this sign-in link is invalid, expired or already used: run `abproxy admin` again',
        );
      }
    } else {
      const address = clientAddress(ctx.req, deps.config.trustedProxies);
      const wait = throttle.retryAfter(address);
      if (wait > 0) {
        throw new ApiError('rate_limit_error', `too many wrong master keys; try again in ${wait} s`, {
          headers: { 'retry-after': String(wait) },
        });
      }
      const master = deps.config.masterApiKey;
      if (typeof body?.master_key !== 'string' || !master || !sameSecret(body.master_key, master)) {
        throttle.failed(address, typeof body?.master_key === 'string' ? body.master_key : undefined);
        ctx.log.warn({ requestId: ctx.requestId }, 'admin sign-in refused');
        throw new ApiError('authentication_error', 'wrong master key');
      }
    }
    const created = startSession(ctx);
    sendJson(ctx.res, 200, { signed_in: true, csrf: created.csrf });
  };

  const logout = signedIn(async (ctx, current) => {
    sessions.delete(current.id);
    ctx.res.setHeader('set-cookie', sessionCookie(ctx.req, undefined));
    sendJson(ctx.res, 200, { signed_in: false });
  });

  /** Stored records plus finished ones still in this machine's spool. */
  const usageSince = async (since: string): Promise<UsageRecord[]> => {
    const stored = await deps.store.listUsage({ since });
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const record of spooledRecords(spoolDir(deps.config))) {
      if (!byId.has(record.id) && inQuery(record, { since })) byId.set(record.id, record);
    }
    return [...byId.values()];
  };

  const listKeys = signedIn(async (ctx) => {
    const at = now();
    const [keys, month] = await Promise.all([deps.store.listKeys(), usageSince(monthStart(at))]);
    const spent = summarize(month, { since: monthStart(at) }, 'key').groups;
    sendJson(ctx.res, 200, {
      keys: keys.map((k) => ({
        ...keyJson(k, at),
        spent_this_month_usd: spent.find((g) => g.group === k.id)?.cost_usd ?? 0,
      })),
    });
  });

  const createKey = signedIn(async (ctx) => {
    const spec = specFrom(await readJson(ctx.req, MAX_BODY), Object.keys(API_FIELDS));
    let built: ReturnType<typeof newKeyRecord>;
    try {
      built = newKeyRecord(spec, new Date(now()));
    } catch (err) {
      specError(err);
    }
    await deps.store.createKey(built.record);
    ctx.log.info({ keyId: built.record.id, requestId: ctx.requestId }, 'admin created a key');
    sendJson(ctx.res, 201, { key: keyJson(built.record, now()), secret: built.secret });
  });

  const findKey = async (id: string) => {
    try {
      const record = await deps.store.getKey(id);
      if (record) return record;
    } catch (err) {
      if (!(err instanceof AmbiguousKeyError)) throw err;
    }
    throw new ApiError('not_found_error', `no key '${id}'`);
  };

  const editKey = signedIn(async (ctx) => {
    const record = await findKey(ctx.params.id ?? '');
    if (record.revokedAt) throw ApiError.invalid(`key ${record.id} is revoked; create a new one`);
    const current = keyJson(record);
    const changes = specFrom(
      await readJson(ctx.req, MAX_BODY),
      Object.keys(API_FIELDS).filter((f) => f !== 'expires'),
    );
    const merged: KeySpec = {
      name: current.name,
      user: current.user,
      serviceTier: current.service_tier,
      models: current.models,
      rateLimit: current.rate_limit_rpm,
      tokensPerMinute: current.tokens_per_minute,
      budgetUsd: current.budget_usd,
      concurrentRequests: current.concurrent_requests,
      webSearch: current.web_search,
      webSearchDaily: current.web_search_daily,
      ...changes,
    };
    let edit: ReturnType<typeof keyEdit>;
    try {
      edit = keyEdit(merged);
    } catch (err) {
      specError(err);
    }
    if ((await deps.store.updateKey(record.id, edit)) === 'not-found') {
      throw new ApiError('not_found_error', `no key '${record.id}'`);
    }
    ctx.log.info({ keyId: record.id, requestId: ctx.requestId }, 'admin edited a key');
    sendJson(ctx.res, 200, { key: keyJson((await deps.store.getKey(record.id)) ?? record, now()) });
  });

  const revokeKey = signedIn(async (ctx) => {
    const record = await findKey(ctx.params.id ?? '');
    const result = await deps.store.revokeKey(record.id, new Date(now()).toISOString());
    ctx.log.info({ keyId: record.id, requestId: ctx.requestId, result }, 'admin revoked a key');
    sendJson(ctx.res, 200, {
      key: keyJson((await deps.store.getKey(record.id)) ?? record, now()),
      result,
    });
  });

  const usage = signedIn(async (ctx) => {
    const at = now();
    const window = parseDuration(ctx.url.searchParams.get('since') ?? '30d');
    if (window === undefined || window > 366 * 86_400_000) {
      throw ApiError.invalid('since: expected a duration such as 7d or 30d (at most a year)');
    }
    const since = new Date(at - window).toISOString();
    const from = [since, monthStart(at)].sort()[0]!;
    const by = ctx.url.searchParams.get('by') ?? undefined;
    if (by !== undefined && !(GROUPINGS as readonly string[]).includes(by)) {
      throw ApiError.invalid(`by: expected one of ${GROUPINGS.join(', ')}`);
    }
    const sessionId = ctx.url.searchParams.get('session') ?? undefined;
    const [records, keys] = await Promise.all([usageSince(from), deps.store.listKeys()]);
    sendJson(ctx.res, 200, usageView(records, keys, since, at, { by: by as GroupBy | undefined, sessionId }));
  });

  const models = signedIn(async (ctx) => {
    const snapshot = await deps.catalogue.snapshot();
    const at = now();
    const recent = summarize(
      await usageSince(new Date(at - 86_400_000).toISOString()),
      { since: '' },
      'model',
    );
    sendJson(ctx.res, 200, {
      region: snapshot.region,
      source: snapshot.source,
      fetched_at: new Date(snapshot.fetchedAt).toISOString(),
      models: snapshot.models.map((m) => ({
        id: m.modelId,
        name: m.name ?? null,
        provider: m.provider ?? null,
        active: m.active,
        on_demand: m.onDemand,
      })),
      profiles: snapshot.profiles.length,
      last_24h: largestRows(recent.groups),
      // With several upstreams (ABPROXY_UPSTREAMS): each one's breakers and recent faults.
      upstreams: deps.stats?.snapshot().upstreams ?? [],
    });
  });

  /** The upstream pool's health: breaker state per upstream × model, recent faults, calls in flight. */
  const upstreams = signedIn(async (ctx) => {
    sendJson(ctx.res, 200, { upstreams: deps.stats?.snapshot().upstreams ?? [] });
  });

  const settings = signedIn(async (ctx) => {
    sendJson(ctx.res, 200, { settings: describeSettings(deps.config, deps.env ?? process.env) });
  });

  const live = signedIn(async (ctx, current) => {
    const { res } = ctx;
    // The feed lasts as long as its session: a logout or the session's end closes it (within a tick).
    const ended = () => deps.isDraining() || sessions.get(current.id) === undefined;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const send = (event: string, data: unknown) => {
      // A reader that stopped reading misses events rather than growing our buffer; counters resend.
      if (res.writableEnded || res.destroyed || res.writableLength > LIVE_BUFFER_BYTES) return;
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const sendStats = () => {
      if (ended()) {
        res.end();
        return;
      }
      const { recent: _recent, ...counters } = deps.stats?.snapshot() ?? { recent: [] };
      send('stats', counters);
    };
    send('recent', deps.stats?.snapshot().recent ?? []);
    sendStats();
    const unsubscribe = deps.stats?.onRequest((request: RecentRequest) => {
      if (!ended()) send('request', request);
      sendStats();
    });
    const timer = setInterval(sendStats, LIVE_STATS_MS);
    await new Promise<void>((resolve) => res.once('close', resolve));
    clearInterval(timer);
    unsubscribe?.();
  });

  const routes: Route[] = [
    { method: 'GET', path: '/admin', handler: page },
    { method: 'GET', path: '/admin/assets/:name', handler: asset },
    { method: 'GET', path: '/admin/api/session', handler: session },
    { method: 'POST', path: '/admin/api/login', handler: login },
    { method: 'POST', path: '/admin/api/logout', handler: logout },
    { method: 'GET', path: '/admin/api/keys', handler: listKeys },
    { method: 'POST', path: '/admin/api/keys', handler: createKey },
    { method: 'PATCH', path: '/admin/api/keys/:id', handler: editKey },
    { method: 'POST', path: '/admin/api/keys/:id/revoke', handler: revokeKey },
    { method: 'GET', path: '/admin/api/usage', handler: usage },
    { method: 'GET', path: '/admin/api/models', handler: models },
    { method: 'GET', path: '/admin/api/upstreams', handler: upstreams },
    { method: 'GET', path: '/admin/api/settings', handler: settings },
    { method: 'GET', path: '/admin/api/live', handler: live },
  ];
  const route = router(routes);

  return async function adminMiddleware(ctx, next) {
    const path = ctx.url.pathname;
    if (path !== '/admin' && !path.startsWith('/admin/')) return next();
    setSecurityHeaders(ctx.res);
    try {
      await route(ctx, next);
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw ApiError.invalid(err.message);
      throw err;
    }
  };
}

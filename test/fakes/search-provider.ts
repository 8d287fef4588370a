/**
 * A fake search provider for tests: one HTTP server on a loopback port that speaks the real request and
 * answer shapes of Brave (`GET /res/v1/web/search`, `X-Subscription-Token`), Tavily (`POST /search`,
 * `Authorization: Bearer` or `api_key` in the body), Exa (`POST /search`, `x-api-key`) and SearXNG
 * (`GET /search?format=json`). Point the gateway at it with ABPROXY_WEB_SEARCH_URL=<url> and
 * ABPROXY_WEB_SEARCH_API_KEY=<apiKey>.
 *
 *   const fake = await startFakeSearch();
 *   fake.script('capital of france', { results: [{ url, title, content }] });
 *   fake.script(/outage/, { status: 503 });
 *   fake.script('busy', { status: 429, retryAfter: 7 });
 *   fake.script('slow', { delayMs: 5_000 });
 *   … fake.queries (what it was asked: provider, query, domains, location) …
 *   await fake.close();
 *
 * It does not apply domain filters itself (like a provider that ignores them), so tests see the gateway's
 * own post-filter at work; the filters it was sent are recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeProviderName = 'brave' | 'tavily' | 'exa' | 'searxng';

export interface FakeHit {
  url: string;
  title: string;
  content: string;
  pageAge?: string;
}

export interface FakeBehaviour {
  /** Hits to answer with (default: three generic hits on example.com/.org/.net naming the query). */
  results?: FakeHit[];
  /** Answer with this HTTP status and a provider-like error body instead. */
  status?: number;
  /** With status 429: the retry-after header. */
  retryAfter?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer 200 with this body as it is (bad JSON, wrong shapes). */
  rawBody?: string;
}

export interface RecordedQuery {
  provider: FakeProviderName;
  /** The query without `site:` operators. */
  query: string;
  /** The query as sent (with Brave's/SearXNG's `site:` operators). */
  rawQuery: string;
  allowedDomains: string[];
  blockedDomains: string[];
  location: { country?: string; city?: string; region?: string; timezone?: string };
  count?: number;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  params?: Record<string, string>;
}

type Matcher = string | RegExp | ((query: string) => boolean);

/** A page for the extract APIs (Tavily `POST /extract`, Exa `POST /contents`). */
export interface FakePage {
  text?: string;
  title?: string;
  /** The provider could not read it (listed in failed_results / statuses). */
  fail?: string;
  /** Answer the whole call with this HTTP status. */
  status?: number;
}

export interface RecordedExtract {
  provider: 'tavily' | 'exa';
  urls: string[];
  body: unknown;
}

export interface FakeSearch {
  /** Base URL, e.g. http://127.0.0.1:PORT (give it as ABPROXY_WEB_SEARCH_URL). */
  url: string;
  /** The key it accepts (give it as ABPROXY_WEB_SEARCH_API_KEY). */
  apiKey: string;
  /** Every query it got, in order. */
  queries: RecordedQuery[];
  /** How to answer queries that match (a string matches case-insensitively as a substring); last wins. */
  script(match: Matcher, behaviour: FakeBehaviour): void;
  /** How to answer every query no script matches. */
  scriptDefault(behaviour: FakeBehaviour): void;
  /** What the extract APIs answer for a URL (default: a short text naming the URL). */
  scriptPage(url: string, page: FakePage): void;
  /** Every extract call, in order. */
  extracts: RecordedExtract[];
  reset(): void;
  close(): Promise<void>;
}

export function defaultHits(query: string): FakeHit[] {
  const slug =
    query
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'q';
  return [
    {
      url: `https://docs.example.com/${slug}`,
      title: `Docs about ${query}`,
      content: `The documentation explains ${query} in detail.`,
      pageAge: '2 days ago',
    },
    {
      url: `https://news.example.org/${slug}`,
      title: `News on ${query}`,
      content: `Latest news about ${query}.`,
      pageAge: '2026-11-30T10:00:00Z',
    },
    {
      url: `https://blog.example.net/${slug}`,
      title: `A blog post on ${query}`,
      content: `Someone wrote about ${query}.`,
    },
  ];
}

/** Splits `q site:a OR site:b -site:c` into the query and its operators. */
export function splitSiteOperators(raw: string): { query: string; allowed: string[]; blocked: string[] } {
  const allowed: string[] = [];
  const blocked: string[] = [];
  const words = raw.split(/\s+/).filter((w) => w !== '');
  const rest: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const m = /^(-?)site:(\S+)$/.exec(w);
    if (m) {
      (m[1] ? blocked : allowed).push(m[2]!);
      continue;
    }
    if (w === 'OR' && /^site:/.test(words[i + 1] ?? '') && /^site:/.test(words[i - 1] ?? '')) continue;
    rest.push(w);
  }
  return { query: rest.join(' '), allowed, blocked };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

function answer(provider: FakeProviderName, query: string, hits: FakeHit[]): unknown {
  switch (provider) {
    case 'brave':
      return {
        type: 'search',
        query: { original: query, more_results_available: false },
        web: {
          type: 'search',
          results: hits.map((h) => ({
            type: 'search_result',
            title: h.title,
            url: h.url,
            description: h.content.replace(query, `<strong>${query}</strong>`),
            ...(h.pageAge ? { age: h.pageAge } : {}),
            language: 'en',
            family_friendly: true,
          })),
        },
      };
    case 'tavily':
      return {
        query,
        answer: null,
        images: [],
        results: hits.map((h, i) => ({
          title: h.title,
          url: h.url,
          content: h.content,
          score: 0.9 - i * 0.1,
          raw_content: null,
          ...(h.pageAge ? { published_date: h.pageAge } : {}),
        })),
        response_time: 0.42,
      };
    case 'exa':
      return {
        requestId: `req-${Date.now()}`,
        resolvedSearchType: 'neural',
        results: hits.map((h) => ({
          id: h.url,
          url: h.url,
          title: h.title,
          author: null,
          ...(h.pageAge ? { publishedDate: h.pageAge } : {}),
          text: h.content,
        })),
      };
    case 'searxng':
      return {
        query,
        number_of_results: hits.length,
        results: hits.map((h) => ({
          url: h.url,
          title: h.title,
          content: h.content,
          engine: 'duckduckgo',
          engines: ['duckduckgo'],
          score: 1,
          category: 'general',
          ...(h.pageAge ? { publishedDate: h.pageAge } : {}),
        })),
        answers: [],
        suggestions: [],
        unresponsive_engines: [],
      };
  }
}

function errorBody(provider: FakeProviderName, status: number): unknown {
  const message =
    status === 429 ? 'Rate limit exceeded' : status === 401 ? 'Unauthorized' : 'Service unavailable';
  switch (provider) {
    case 'brave':
      return {
        type: 'ErrorResponse',
        error: { status, code: status === 429 ? 'RATE_LIMITED' : 'ERROR', detail: message },
      };
    case 'tavily':
      return { detail: { error: message } };
    case 'exa':
      return { requestId: 'err', error: message, tag: 'ERROR' };
    case 'searxng':
      return `<html><body>${message}</body></html>`;
  }
}

export async function startFakeSearch(options: { apiKey?: string } = {}): Promise<FakeSearch> {
  const apiKey = options.apiKey ?? 'fake-search-key';
  const queries: RecordedQuery[] = [];
  let scripts: Array<{ match: Matcher; behaviour: FakeBehaviour }> = [];
  let fallback: FakeBehaviour = {};
  const extracts: RecordedExtract[] = [];
  let pages = new Map<string, FakePage>();

  const extract = (res: ServerResponse, provider: 'tavily' | 'exa', body: Record<string, unknown>) => {
    const urls = Array.isArray(body.urls) ? body.urls.map(String) : [];
    extracts.push({ provider, urls, body });
    const found = urls.map((url) => ({ url, page: pages.get(url) ?? { text: `Extracted text of ${url}` } }));
    const status = found.find((f) => f.page.status)?.page.status;
    if (status) return send(res, status, errorBody(provider, status));
    const ok = found.filter((f) => !f.page.fail);
    const failed = found.filter((f) => f.page.fail);
    if (provider === 'tavily') {
      return send(res, 200, {
        results: ok.map((f) => ({ url: f.url, raw_content: f.page.text ?? '', images: [] })),
        failed_results: failed.map((f) => ({ url: f.url, error: f.page.fail })),
        response_time: 0.2,
      });
    }
    return send(res, 200, {
      requestId: 'contents',
      results: ok.map((f) => ({
        id: f.url,
        url: f.url,
        title: f.page.title ?? null,
        text: f.page.text ?? '',
      })),
      statuses: found.map((f) =>
        f.page.fail
          ? { id: f.url, status: 'error', error: { tag: f.page.fail, httpStatusCode: 404 } }
          : { id: f.url, status: 'success' },
      ),
    });
  };

  const behaviourFor = (query: string): FakeBehaviour => {
    for (let i = scripts.length - 1; i >= 0; i--) {
      const { match, behaviour } = scripts[i]!;
      const hit =
        typeof match === 'string'
          ? query.toLowerCase().includes(match.toLowerCase())
          : match instanceof RegExp
            ? match.test(query)
            : match(query);
      if (hit) return behaviour;
    }
    return fallback;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const text = await readBody(req);
    let provider: FakeProviderName;
    let record: RecordedQuery;
    if (req.method === 'GET' && url.pathname === '/res/v1/web/search') {
      provider = 'brave';
      if (header(req, 'x-subscription-token') !== apiKey) return send(res, 401, errorBody(provider, 401));
      const raw = url.searchParams.get('q') ?? '';
      const split = splitSiteOperators(raw);
      const count = url.searchParams.get('count');
      if (count !== null && (Number(count) > 20 || Number(count) < 1))
        return send(res, 422, { error: 'count' });
      const country = url.searchParams.get('country') ?? header(req, 'x-loc-country');
      const city = header(req, 'x-loc-city');
      const region = header(req, 'x-loc-state-name');
      const timezone = header(req, 'x-loc-timezone');
      record = {
        provider,
        query: split.query,
        rawQuery: raw,
        allowedDomains: split.allowed,
        blockedDomains: split.blocked,
        location: {
          ...(country ? { country } : {}),
          ...(city ? { city } : {}),
          ...(region ? { region } : {}),
          ...(timezone ? { timezone } : {}),
        },
        ...(count !== null ? { count: Number(count) } : {}),
        headers: req.headers,
        params: Object.fromEntries(url.searchParams),
      };
    } else if (req.method === 'GET' && url.pathname === '/search') {
      provider = 'searxng';
      if (url.searchParams.get('format') !== 'json') {
        res.writeHead(403, { 'content-type': 'text/html' });
        return res.end('<html>403 Forbidden</html>');
      }
      const raw = url.searchParams.get('q') ?? '';
      const split = splitSiteOperators(raw);
      record = {
        provider,
        query: split.query,
        rawQuery: raw,
        allowedDomains: split.allowed,
        blockedDomains: split.blocked,
        location: {},
        headers: req.headers,
        params: Object.fromEntries(url.searchParams),
      };
    } else if (req.method === 'POST' && (url.pathname === '/extract' || url.pathname === '/contents')) {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return send(res, 400, { error: 'invalid JSON' });
      }
      if (url.pathname === '/contents') {
        if (header(req, 'x-api-key') !== apiKey) return send(res, 401, errorBody('exa', 401));
        return extract(res, 'exa', body);
      }
      if (header(req, 'authorization') !== `Bearer ${apiKey}` && body.api_key !== apiKey) {
        return send(res, 401, errorBody('tavily', 401));
      }
      return extract(res, 'tavily', body);
    } else if (req.method === 'POST' && url.pathname === '/search') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return send(res, 400, { error: 'invalid JSON' });
      }
      const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
      if (req.headers['x-api-key'] !== undefined) {
        provider = 'exa';
        if (header(req, 'x-api-key') !== apiKey) return send(res, 401, errorBody(provider, 401));
        const location = typeof body.userLocation === 'string' ? { country: body.userLocation } : {};
        record = {
          provider,
          query: String(body.query ?? ''),
          rawQuery: String(body.query ?? ''),
          allowedDomains: list(body.includeDomains),
          blockedDomains: list(body.excludeDomains),
          location,
          ...(typeof body.numResults === 'number' ? { count: body.numResults } : {}),
          headers: req.headers,
          body,
        };
      } else {
        provider = 'tavily';
        const bearer = header(req, 'authorization');
        if (bearer !== `Bearer ${apiKey}` && body.api_key !== apiKey)
          return send(res, 401, errorBody(provider, 401));
        const location = typeof body.country === 'string' ? { country: body.country } : {};
        record = {
          provider,
          query: String(body.query ?? ''),
          rawQuery: String(body.query ?? ''),
          allowedDomains: list(body.include_domains),
          blockedDomains: list(body.exclude_domains),
          location,
          ...(typeof body.max_results === 'number' ? { count: body.max_results } : {}),
          headers: req.headers,
          body,
        };
      }
    } else {
      return send(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    }
    queries.push(record);
    const behaviour = behaviourFor(record.query);
    if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
    if (res.destroyed) return;
    if (behaviour.status && behaviour.status !== 200) {
      const headers: Record<string, string> =
        behaviour.retryAfter !== undefined ? { 'retry-after': String(behaviour.retryAfter) } : {};
      return send(res, behaviour.status, errorBody(provider, behaviour.status), headers);
    }
    if (behaviour.rawBody !== undefined) return send(res, 200, behaviour.rawBody);
    const hits = behaviour.results ?? defaultHits(record.query);
    const limited = record.count !== undefined ? hits.slice(0, record.count) : hits;
    return send(res, 200, answer(provider, record.query, limited));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    queries,
    script(match, behaviour) {
      scripts.push({ match, behaviour });
    },
    scriptDefault(behaviour) {
      fallback = behaviour;
    },
    scriptPage(pageUrl, page) {
      pages.set(pageUrl, page);
    },
    extracts,
    reset() {
      scripts = [];
      fallback = {};
      queries.length = 0;
      extracts.length = 0;
      pages = new Map();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Every gateway setting, once: its environment names, default, parser and one line of documentation.
 * The `Settings` type, the defaults, env lookup, parsing, `abproxy config` help and the README's settings
 * table are all derived from this table (`npm run docs` rewrites the README table; a test checks it).
 */

import { readFileSync } from 'node:fs';
import { SERVICE_TIERS } from '../models/types.ts';
import { PolicyError, type PolicySet, parsePolicies } from '../signin/policies.ts';
import { parseStrategies, parseUpstreams, STRATEGIES, type Strategy } from '../upstream/upstreams.ts';
import { DEFAULT_DRAIN_TIMEOUT_MS } from './drain.ts';
import {
  boolean,
  ConfigError,
  commaList,
  decimal,
  httpUrl,
  integer,
  jsonObject,
  keyValueList,
  oneOf,
  optionalOneOf,
  origins,
  type Parser,
  string,
  stringMap,
} from './parsers.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const UPSTREAM_HTTP_VERSIONS = ['1.1', '2'] as const;
export type UpstreamHttp = (typeof UPSTREAM_HTTP_VERSIONS)[number];
/**
 * How Claude models are called: natively (InvokeModel with the Anthropic body), through Converse, or
 * through Bedrock's own Anthropic Messages API (`/anthropic/v1/messages` on bedrock-runtime, or on the
 * bedrock-mantle host).
 */
export const CLAUDE_PATHS = ['invoke', 'converse', 'messages', 'mantle'] as const;
export type ClaudePath = (typeof CLAUDE_PATHS)[number];

/** Model glob (`*` any run) → Claude path; each value checked, errors name the entry. */
const claudePathMap: Parser<Record<string, ClaudePath>> = (raw, label) => {
  const map: Record<string, ClaudePath> = {};
  const paths = oneOf(CLAUDE_PATHS);
  for (const [glob, path] of Object.entries(
    jsonObject('a JSON object of model glob to Claude path')(raw, label),
  )) {
    if (glob.trim() === '') throw new ConfigError(`${label}: a model glob must not be empty`);
    map[glob] = paths(path, `${label}.${glob}`);
  }
  return map;
};
/** Where keys and usage live: solo = one SQLite file, team = shared DynamoDB tables. */
export const STORAGE_MODES = ['solo', 'team'] as const;
export type StorageMode = (typeof STORAGE_MODES)[number];

export const MIB = 1024 * 1024;
/** ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS's default, also the transports' when built without settings. */
export const UPSTREAM_IDLE_TIMEOUT_MS = 300_000;
/** Default longest wait for a non-stream answer (ABPROXY_UPSTREAM_ANSWER_TIMEOUT_MS): the Anthropic SDKs' own. */
export const UPSTREAM_ANSWER_TIMEOUT_MS = 600_000;
/** Search APIs the gateway can run web_search with (src/tools/web/providers/). */
export const WEB_SEARCH_PROVIDERS = ['brave', 'tavily', 'exa', 'searxng'] as const;
export type WebSearchProviderName = (typeof WEB_SEARCH_PROVIDERS)[number];
/** A request with web_search while no provider is configured: refused (400) or the tool removed. */
export const WEB_SEARCH_WITHOUT_PROVIDER = ['refuse', 'remove'] as const;
export type WebSearchWithoutProvider = (typeof WEB_SEARCH_WITHOUT_PROVIDER)[number];
/** Who reads a page for web fetch: the gateway itself (guarded) or the search provider's extract API. */
export const WEB_FETCH_VIA = ['direct', 'provider'] as const;
export type WebFetchVia = (typeof WEB_FETCH_VIA)[number];

/** The default of `home` depends on the OS and the environment; every other default is a constant. */
export const HOME_DEFAULT = Symbol('OS config directory');

export interface SettingSpec<T, D extends T | undefined = T | undefined> {
  /** Environment names, first non-empty one wins (the seed converter's names kept as aliases). */
  env: readonly string[];
  default: D | typeof HOME_DEFAULT;
  parse: Parser<T>;
  /** One line for `abproxy config` help and the README table (Markdown backticks allowed). */
  doc: string;
  /** How the default reads in the docs, when the value itself says it badly (`32 MiB`, `derived`). */
  docDefault?: string;
  /** The `serve` flag that also sets it. */
  flag?: string;
  /** Masked in `config get` and never echoed in errors. */
  secret?: boolean;
  /** Cannot live in the config file (it decides where that file is). */
  notInFile?: boolean;
}

/** Keeps each entry's own value type (and whether its default is undefined) for the Settings type. */
function setting<T, D extends T | undefined>(spec: SettingSpec<T, D>): SettingSpec<T, D> {
  return spec;
}

const seconds = (n: number) => n * 1_000;

/** ABPROXY_POLICIES: JSON (text or, in the config file, the value itself) or the path of a JSON file. */
const policiesParser: Parser<PolicySet | undefined> = (raw, label) => {
  let value = raw;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (text === '') return undefined;
    let source = text;
    let where = label;
    if (!/^[[{]/.test(text)) {
      where = `${label} (${text})`;
      try {
        source = readFileSync(text, 'utf8');
      } catch (err) {
        throw new ConfigError(`${where}: cannot read the policies file: ${(err as Error).message}`);
      }
    }
    try {
      value = JSON.parse(source);
    } catch (err) {
      throw new ConfigError(`${where}: not valid JSON: ${(err as Error).message}`);
    }
    label = where;
  }
  try {
    return parsePolicies(value);
  } catch (err) {
    if (err instanceof PolicyError) throw new ConfigError(`${label}: ${err.message}`);
    throw err;
  }
};

/** OTLP transports; `grpc` is accepted here and refused when traces are on (its exporter is not shipped). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export const OTEL_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type OtelSampler = (typeof OTEL_SAMPLERS)[number];

export const SETTINGS = {
  port: setting({
    env: ['ABPROXY_PORT', 'PORT'],
    default: 8080,
    parse: integer(0, 65535),
    flag: '--port',
    doc: 'port to listen on (0 picks a free one)',
  }),
  host: setting({
    env: ['ABPROXY_HOST'],
    default: '127.0.0.1',
    parse: string(),
    flag: '--host',
    doc: 'address to bind; any non-loopback address needs `MASTER_API_KEY` or `REQUIRE_API_KEY=true`',
  }),
  home: setting<string, string>({
    env: ['ABPROXY_HOME'],
    default: HOME_DEFAULT,
    parse: string(),
    notInFile: true,
    docDefault: '`~/.config/abproxy`',
    doc: 'state directory: config file, SQLite store, spool, secrets',
  }),
  masterApiKey: setting({
    env: ['MASTER_API_KEY'],
    default: undefined,
    parse: string({ secret: true, emptyIsUnset: true }),
    secret: true,
    doc: 'a key that is always accepted (and makes every call need a key)',
  }),
  requireApiKey: setting({
    env: ['REQUIRE_API_KEY'],
    default: undefined,
    parse: boolean,
    docDefault: 'loopback: until a key exists',
    doc: '`true`: every call needs a key; `false` (loopback only): no key ever needed',
  }),
  apiKeyHeader: setting({
    env: ['API_KEY_HEADER'],
    default: 'x-api-key',
    parse: string({ lowercase: true }),
    doc: 'another header that may carry the key (`x-api-key` and `Authorization: Bearer` always do)',
  }),
  region: setting({
    env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    default: 'us-east-1',
    // What the AWS SDK takes as a region (a host label), so a typo fails at start-up, not at the first
    // call; loose enough for a local stand-in's name (`local` with DynamoDB Local).
    parse: string({
      pattern: {
        test: (v) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v),
        describe: 'expected an AWS region like us-east-1 (lower-case letters, digits and hyphens)',
      },
    }),
    flag: '--region',
    doc: 'AWS region of Bedrock (credentials and endpoints come from the AWS SDK chain)',
  }),
  logLevel: setting({
    env: ['LOG_LEVEL'],
    default: 'info' as LogLevel,
    parse: oneOf(LOG_LEVELS),
    doc: 'pino level; logs are JSON on stderr',
  }),
  modelMap: setting({
    env: ['ABPROXY_MODEL_MAP'],
    default: {} as Record<string, string>,
    parse: stringMap('model name to Bedrock id', 'a Bedrock model id string'),
    doc: 'JSON: client model name (or `prefix*`) → Bedrock id, profile or ARN; wins over catalogue resolution',
  }),
  signingSecret: setting({
    env: ['ABPROXY_SIGNING_SECRET'],
    default: undefined,
    parse: string({ secret: true, emptyIsUnset: true }),
    secret: true,
    docDefault: 'derived',
    doc: "secret for what the gateway signs or seals (open models' thinking, web-tool results, admin sign-in links); else stretched from `MASTER_API_KEY` with scrypt, else kept in `ABPROXY_HOME`; give every instance of a team the same",
  }),
  maxBodyBytes: setting({
    env: ['ABPROXY_MAX_BODY_BYTES'],
    // Anthropic's own request limit for the Messages API.
    default: 32 * MIB,
    parse: integer(1024, 2 ** 31 - 1),
    docDefault: '32 MiB',
    doc: 'request body limit (after decompression)',
  }),
  maxBodyBytesInFlight: setting({
    env: ['ABPROXY_MAX_BODY_BYTES_IN_FLIGHT'],
    // 0: a 16th of V8's heap limit (node sizes it from the machine's or container's memory).
    default: 0,
    parse: integer(0, 2 ** 42),
    docDefault: 'auto',
    doc: 'request body bytes (and the `url` images, documents and web fetch pages fetched for them) held at once by requests in flight (a body costs 6–14× its size while its request runs); beyond it, 529 with `retry-after`; one key may hold half of it (beyond: 429 with `retry-after`); refusals counted (`abproxy_body_budget_refusals_total`) and logged. `0`/auto: 1/16 of the heap limit; never less than `ABPROXY_MAX_BODY_BYTES`',
  }),
  threadsMaxBytes: setting({
    env: ['ABPROXY_THREADS_MAX_BYTES'],
    default: 64 * MIB,
    parse: integer(0, 2 ** 40),
    docDefault: '64 MiB',
    doc: "message threads (the SDK toolRunner's `thread` field): conversations held in memory between turns as their JSON, bound to their key, at most this much (a key at most a quarter; oldest dropped first; idle ones after an hour; none larger than a request body); a continue of a thread not held is 404 `thread_not_found` and the SDK resends the whole conversation. `0`: hold none",
  }),
  enableToolUse: setting({
    env: ['ENABLE_TOOL_USE'],
    default: true,
    parse: boolean,
    doc: "the seed's switch: `false` drops tools from requests",
  }),
  enableExtendedThinking: setting({
    env: ['ENABLE_EXTENDED_THINKING'],
    default: true,
    parse: boolean,
    doc: "the seed's switch: `false` drops thinking from requests",
  }),
  enableDocumentSupport: setting({
    env: ['ENABLE_DOCUMENT_SUPPORT'],
    default: true,
    parse: boolean,
    doc: "the seed's switch: `false` refuses document blocks",
  }),
  promptCachingEnabled: setting({
    env: ['PROMPT_CACHING_ENABLED'],
    default: true,
    parse: boolean,
    doc: "the seed's switch: `false` drops cache points",
  }),
  defaultServiceTier: setting({
    env: ['DEFAULT_SERVICE_TIER'],
    default: 'default' as (typeof SERVICE_TIERS)[number],
    parse: oneOf(SERVICE_TIERS),
    doc: `service tier for keys without one: ${SERVICE_TIERS.map((t) => `\`${t}\``).join(', ')}`,
  }),
  upstreamHttp: setting({
    env: ['ABPROXY_UPSTREAM_HTTP'],
    default: '1.1' as UpstreamHttp,
    parse: oneOf(UPSTREAM_HTTP_VERSIONS, { '1': '1.1', '2.0': '2' }),
    doc: '`1.1` (keep-alive pool, the fast path) or `2` (the AWS SDK over HTTP/2 with concurrent streams)',
  }),
  claudePath: setting({
    env: ['ABPROXY_CLAUDE_PATH'],
    default: 'invoke' as ClaudePath,
    parse: oneOf(CLAUDE_PATHS),
    doc: "`invoke`: Claude models get InvokeModel with the Anthropic body itself (every Claude feature survives); `converse`: Converse like other families; `messages`: Bedrock's Anthropic Messages API on bedrock-runtime (`/anthropic/v1/messages`, plain SSE passed through); `mantle`: the same API on the bedrock-mantle host. See [Claude paths](#claude-paths)",
  }),
  claudePaths: setting({
    env: ['ABPROXY_CLAUDE_PATHS'],
    default: {} as Record<string, ClaudePath>,
    parse: claudePathMap,
    doc: 'JSON: per-model Claude path, `{"<model glob>": "invoke|converse|messages|mantle"}` (matched against the client\'s name, the Bedrock id and the base id; first match wins over `ABPROXY_CLAUDE_PATH`)',
  }),
  mantleEndpoint: setting({
    env: ['AWS_ENDPOINT_URL_BEDROCK_MANTLE'],
    default: undefined,
    parse: httpUrl(),
    docDefault: '`https://bedrock-mantle.{region}.api.aws`',
    doc: 'bedrock-mantle host URL for the `mantle` Claude path (the gateway appends `/anthropic/v1/messages`)',
  }),
  claudeFeatures: setting({
    env: ['ABPROXY_CLAUDE_FEATURES'],
    default: undefined,
    parse: jsonObject(),
    doc: 'JSON overrides of the per-generation allow-list of body fields and betas sent to Claude (`{"<model regex>": {"addBetas": [...], "removeFields": [...]}}`, see `src/models/claude-features.ts`)',
  }),
  upstreamMaxAttempts: setting({
    env: ['ABPROXY_UPSTREAM_MAX_ATTEMPTS'],
    default: 2,
    parse: integer(1, 10),
    doc: 'attempts per Bedrock call; only connection faults are retried (clients retry the rest); with several `ABPROXY_UPSTREAMS` the next upstream is the retry',
  }),
  upstreamMaxConnections: setting({
    env: ['ABPROXY_UPSTREAM_MAX_CONNECTIONS'],
    // One Claude Code stream holds a connection for minutes: room for thousands of them.
    default: 4096,
    parse: integer(1, 65_536),
    doc: 'HTTP/1.1: most connections to Bedrock at once (one call each); a call that waits is counted (`abproxy_upstream_connection_waits_total`) and logged',
  }),
  upstreamIdleTimeoutMs: setting({
    env: ['ABPROXY_UPSTREAM_IDLE_TIMEOUT_MS'],
    // Once an answer has begun Bedrock sends events steadily (thinking included): minutes of silence
    // mean a stalled stream, which pings to the client would otherwise keep open for ever.
    default: UPSTREAM_IDLE_TIMEOUT_MS,
    parse: integer(0, 86_400_000),
    doc: 'a Bedrock answer that has begun and then sends nothing for this long is cut, as a timeout_error (ms; 0: never; both upstream HTTP versions)',
  }),
  upstreamAnswerTimeoutMs: setting({
    env: ['ABPROXY_UPSTREAM_ANSWER_TIMEOUT_MS'],
    // A non-stream answer comes whole when the model is done; the Anthropic SDKs give up on one after
    // 10 minutes (and refuse non-stream calls that may take longer), so a silent upstream is cut there
    // rather than holding the call (and its connection) for ever.
    default: UPSTREAM_ANSWER_TIMEOUT_MS,
    parse: integer(0, 86_400_000),
    doc: 'a call Bedrock has not begun to answer within this long (a non-stream call: answered whole) fails as a timeout_error (ms; 0: never; both upstream HTTP versions)',
  }),
  bedrockApiKey: setting({
    env: ['AWS_BEARER_TOKEN_BEDROCK'],
    default: undefined,
    parse: string({ secret: true, emptyIsUnset: true }),
    secret: true,
    doc: 'Bedrock API key: sent as a bearer token instead of SigV4 signing',
  }),
  upstreams: setting({
    env: ['ABPROXY_UPSTREAMS'],
    default: undefined,
    parse: parseUpstreams,
    secret: true,
    docDefault: 'one, from `AWS_REGION`',
    doc: 'JSON list of Bedrock upstreams (regions, accounts) to fail over between: `[{"name", "region", "credentials"?, "models"?, …}]`, see [Several upstreams](#several-upstreams)',
  }),
  upstreamStrategy: setting({
    env: ['ABPROXY_UPSTREAM_STRATEGY'],
    default: 'failover' as Strategy,
    parse: oneOf(STRATEGIES),
    doc: 'with `ABPROXY_UPSTREAMS`: `failover` (list order) or `weighted` (least loaded by weight first)',
  }),
  upstreamStrategies: setting({
    env: ['ABPROXY_UPSTREAM_STRATEGIES'],
    default: undefined,
    parse: parseStrategies,
    doc: 'with `ABPROXY_UPSTREAMS`: strategy per model, JSON `{"<model-id glob>": "weighted"}` (or `failover`); the first matching glob wins',
  }),
  upstreamCooldownMs: setting({
    env: ['ABPROXY_UPSTREAM_COOLDOWN_MS'],
    default: seconds(5),
    parse: integer(10, 3_600_000),
    doc: 'with `ABPROXY_UPSTREAMS`: an upstream is skipped for a model this long (or its `retry-after`, or twice as long after a failed probe) once 3 calls in a row failed',
  }),
  firstByteTimeoutMs: setting({
    env: ['ABPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS'],
    // A region that accepts and never answers held a stream until the 10-minute answer timeout (Claude
    // Code's spinner frozen). Bedrock starts a stream within seconds; a long uncached prompt may take
    // tens of them, and then costs this much once more on the next upstream, never a failed call
    // (the last attempt is not cut) nor an open breaker. Short enough for two cuts within the pool's
    // 60-s window, so a pool of three is covered.
    // A non-stream call gets it plus its max_tokens at 10 tokens/s (pool.ts SLOWEST_TOKENS_PER_SECOND).
    // A single upstream that left a stream unanswered for the stream-start bound gives the model's next
    // streams this, until one starts: each client retry waited the whole bound again (stream-start.ts).
    // Its non-stream calls get the max_tokens bound too, as does a pool's last attempt: they outlasted
    // Node's 5-minute wait for headers.
    default: seconds(20),
    parse: integer(0, 3_600_000),
    doc: "with `ABPROXY_UPSTREAMS`: a stream whose upstream has not answered (Converse, InvokeModel streams: sent its first events) within this long (+1 s per 50 kB of body) moves to the next upstream while there is one, and so does a non-stream call silent for that plus 100 ms per `max_tokens` (the last upstream it may try: a 504); one upstream: such a non-stream call fails as a 504, as do a model's streams once one hit the stream-start bound, until one starts (`0`: none)",
  }),
  streamStartTimeoutMs: setting({
    env: ['ABPROXY_UPSTREAM_STREAM_START_TIMEOUT_MS'],
    // The last upstream a stream can try is not cut by the first-byte timer; silent, it held the call to
    // the 10-minute answer timeout, past the 5 minutes Node's fetch waits for headers (the client left
    // with a connection error, and no breaker learnt). Published measurements put the first token of a
    // 1M-token prompt at 1-2 minutes. A single upstream (no pool) has the same bound on every stream.
    default: seconds(180),
    parse: integer(0, 86_400_000),
    doc: 'a stream whose upstream (with `ABPROXY_UPSTREAMS`: the last one it may try) has not answered (behind a pool, for Converse and InvokeModel streams: sent its first events) within this long fails as a 504 `timeout_error` (with `ABPROXY_UPSTREAMS`, counted against that upstream) (`0`: only `ABPROXY_UPSTREAM_ANSWER_TIMEOUT_MS`)',
  }),
  pingIntervalMs: setting({
    env: ['ABPROXY_PING_INTERVAL_MS'],
    default: seconds(15),
    parse: integer(10, 3_600_000),
    doc: 'SSE ping after this much upstream silence',
  }),
  clientStallTimeoutMs: setting({
    env: ['ABPROXY_CLIENT_STALL_TIMEOUT_MS'],
    default: seconds(120),
    parse: integer(0, 86_400_000),
    doc: 'a stream whose client takes no bytes for this long is cut (0: never), so its Bedrock call and connection are freed',
  }),
  allowPrivateMedia: setting({
    env: ['ABPROXY_ALLOW_PRIVATE_MEDIA'],
    default: false,
    parse: boolean,
    doc: 'let `url` images/documents reach private addresses (trusted networks only)',
  }),
  webSearchProvider: setting({
    env: ['ABPROXY_WEB_SEARCH_PROVIDER'],
    default: undefined,
    parse: optionalOneOf(WEB_SEARCH_PROVIDERS),
    docDefault: 'none',
    doc: `web search: the search API behind the \`web_search\` server tool: ${WEB_SEARCH_PROVIDERS.map((p) => `\`${p}\``).join(', ')} (see [Web search providers](#web-search-providers))`,
  }),
  webSearchApiKey: setting({
    env: ['ABPROXY_WEB_SEARCH_API_KEY'],
    default: undefined,
    parse: string({ secret: true, emptyIsUnset: true }),
    secret: true,
    doc: "web search: the provider's API key (Brave, Tavily, Exa need one; SearXNG sends it as a bearer token when set)",
  }),
  webSearchUrl: setting({
    env: ['ABPROXY_WEB_SEARCH_URL'],
    default: undefined,
    parse: httpUrl(),
    docDefault: "the provider's",
    doc: "web search: the provider's base URL (required for `searxng`; self-hosted instances, proxies, tests)",
  }),
  webSearchSiteOperators: setting({
    env: ['ABPROXY_WEB_SEARCH_SITE_OPERATORS'],
    default: false,
    parse: boolean,
    doc: 'web search, Brave and SearXNG (no domain parameter): also write `allowed_domains`/`blocked_domains` into the query as `site:` operators (more hits from allowed domains; the provider sees a changed query); results are filtered either way',
  }),
  webSearchWithoutProvider: setting({
    env: ['ABPROXY_WEB_SEARCH_WITHOUT_PROVIDER'],
    default: 'refuse' as WebSearchWithoutProvider,
    parse: oneOf(WEB_SEARCH_WITHOUT_PROVIDER),
    doc: 'web search with no provider configured: `refuse` (400 naming `ABPROXY_WEB_SEARCH_PROVIDER`) or `remove` (the tool is dropped and a warning header says so)',
  }),
  webSearchCostUsd: setting({
    env: ['ABPROXY_WEB_SEARCH_COST_USD'],
    default: 0.01,
    parse: decimal(0, 100),
    doc: 'web search: cost of one search in USD, counted in usage and budgets',
  }),
  webSearchTimeoutMs: setting({
    env: ['ABPROXY_WEB_SEARCH_TIMEOUT_MS'],
    default: seconds(10),
    parse: integer(100, 600_000),
    doc: 'web search: one provider call must answer within this (else the model gets `unavailable`)',
  }),
  webSearchMaxResults: setting({
    env: ['ABPROXY_WEB_SEARCH_MAX_RESULTS'],
    default: 5,
    parse: integer(1, 20),
    doc: 'web search: results per search given to the model',
  }),
  webToolsTimeBudgetMs: setting({
    env: ['ABPROXY_WEB_TOOLS_TIME_BUDGET_MS'],
    default: seconds(120),
    parse: integer(1_000, 3_600_000),
    doc: 'web search/fetch: total time the gateway spends on searches and fetches of one request; the model answers with what it has after that',
  }),
  webFetchTimeoutMs: setting({
    env: ['ABPROXY_WEB_FETCH_TIMEOUT_MS'],
    default: seconds(15),
    parse: integer(100, 600_000),
    doc: 'web fetch: one page (DNS, connect, redirects, body) must arrive within this',
  }),
  webFetchMaxBytes: setting({
    env: ['ABPROXY_WEB_FETCH_MAX_BYTES'],
    default: 10 * MIB,
    parse: integer(1024, 2 ** 31 - 1),
    docDefault: '10 MiB',
    doc: 'web fetch: largest page or PDF fetched',
  }),
  webFetchVia: setting({
    env: ['ABPROXY_WEB_FETCH_VIA'],
    default: 'direct' as WebFetchVia,
    parse: oneOf(WEB_FETCH_VIA),
    doc: 'web fetch: `direct` (the gateway fetches, public addresses only) or `provider` (Tavily extract / Exa contents read the page; needs that provider)',
  }),
  webFetchAllowLoopbackForTests: setting({
    env: ['ABPROXY_WEB_FETCH_ALLOW_LOOPBACK_FOR_TESTS'],
    default: false,
    parse: boolean,
    doc: 'TESTS ONLY: let web fetch reach loopback addresses (127.0.0.0/8, ::1); never set it on a real gateway',
  }),
  shutdownTimeoutMs: setting({
    env: ['ABPROXY_DRAIN_TIMEOUT_MS', 'ABPROXY_SHUTDOWN_TIMEOUT_MS'],
    default: DEFAULT_DRAIN_TIMEOUT_MS,
    parse: integer(0, 3_600_000),
    doc: 'how long SIGTERM lets in-flight streams finish',
  }),
  headersTimeoutMs: setting({
    env: ['ABPROXY_HEADERS_TIMEOUT_MS'],
    default: seconds(30),
    parse: integer(100, 3_600_000),
    doc: 'a client must send its request headers within this time (else 408 and the socket closes)',
  }),
  requestTimeoutMs: setting({
    env: ['ABPROXY_REQUEST_TIMEOUT_MS'],
    default: seconds(120),
    parse: integer(100, 3_600_000),
    doc: 'a client must send its whole request, body included, within this time; the answer and its stream are not bound by it',
  }),
  keepAliveTimeoutMs: setting({
    env: ['ABPROXY_KEEP_ALIVE_TIMEOUT_MS'],
    default: seconds(65),
    parse: integer(100, 3_600_000),
    doc: "an idle keep-alive connection closes after this; behind a load balancer set it above the balancer's idle timeout",
  }),
  idleGcMs: setting({
    env: ['ABPROXY_IDLE_GC_MS'],
    default: 250,
    parse: integer(0, 3_600_000),
    doc: 'after a burst (256 or more requests in flight at once, resident memory up 32 MiB or more), one compacting GC once at most 8 calls have been in flight for this long gives the memory back (0: never)',
  }),
  socketIdleTimeoutMs: setting({
    env: ['ABPROXY_SOCKET_IDLE_TIMEOUT_MS'],
    default: seconds(900),
    parse: integer(0, 86_400_000),
    doc: 'a socket with no traffic either way for this long is closed (0: never); streams ping every 15 s',
  }),
  claudeModel: setting({
    env: ['ABPROXY_CLAUDE_MODEL'],
    default: undefined,
    parse: string({ emptyIsUnset: true }),
    doc: '`abproxy claude`: the model Claude Code uses (`--model` wins)',
  }),
  claudeSmallModel: setting({
    env: ['ABPROXY_CLAUDE_SMALL_MODEL'],
    default: undefined,
    parse: string({ emptyIsUnset: true }),
    doc: '`abproxy claude`: the small/fast model (`--small-model` wins)',
  }),
  mode: setting({
    env: ['ABPROXY_MODE'],
    default: 'solo' as StorageMode,
    parse: oneOf(STORAGE_MODES),
    flag: '--mode',
    doc: 'storage: `solo` (one SQLite file) or `team` (DynamoDB tables shared by many instances)',
  }),
  dbFile: setting({
    env: ['ABPROXY_DB'],
    default: undefined,
    parse: string({ emptyIsUnset: true }),
    flag: '--db',
    docDefault: '`ABPROXY_HOME/abproxy.db`',
    doc: "solo mode's SQLite file",
  }),
  tablePrefix: setting({
    env: ['ABPROXY_TABLE_PREFIX'],
    default: 'abproxy',
    parse: string({
      pattern: { test: (v) => /^[A-Za-z0-9_.-]{1,200}$/.test(v), describe: 'use 1-200 of A-Z a-z 0-9 _ . -' },
    }),
    flag: '--table-prefix',
    doc: "team mode's DynamoDB tables are `<prefix>-keys`, `-usage`, `-limits`, `-signin`",
  }),
  keyCacheMs: setting({
    env: ['ABPROXY_KEY_CACHE_MS'],
    default: seconds(5),
    parse: integer(0, 3_600_000),
    doc: 'team mode: how long a key lookup (found or not) is cached; a revoke bites within it',
  }),
  rateLimitEnabled: setting({
    env: ['RATE_LIMIT_ENABLED'],
    default: false,
    parse: boolean,
    doc: "the seed's limit for every caller (per key): `RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW` seconds",
  }),
  rateLimitRequests: setting({
    env: ['RATE_LIMIT_REQUESTS'],
    default: 100,
    parse: integer(1, 1_000_000_000),
    doc: "requests per window of the seed's limit",
  }),
  rateLimitWindowSec: setting({
    env: ['RATE_LIMIT_WINDOW'],
    default: 60,
    parse: integer(1, 86_400),
    doc: "window of the seed's limit, in seconds",
  }),
  metricsAuth: setting({
    env: ['ABPROXY_METRICS_AUTH'],
    default: undefined,
    parse: boolean,
    docDefault: 'public on loopback',
    doc: '`GET /metrics` needs a key (`true`) or not (`false`)',
  }),
  logBodies: setting({
    env: ['ABPROXY_LOG_BODIES'],
    default: false,
    parse: boolean,
    doc: 'log request bodies (prompts) at debug level; they may hold secrets',
  }),
  prices: setting({
    env: ['ABPROXY_PRICES'],
    default: undefined,
    parse: jsonObject(),
    doc: 'JSON price overrides, USD per million tokens (see `src/usage/prices.ts`)',
  }),
  usageRecording: setting({
    env: ['ABPROXY_USAGE'],
    default: true,
    parse: boolean,
    doc: 'write a usage record per Messages request (spool, then the store)',
  }),
  usageDrainMs: setting({
    env: ['ABPROXY_USAGE_DRAIN_MS'],
    default: seconds(1),
    parse: integer(10, 3_600_000),
    doc: 'how often spooled usage records move to the store',
  }),
  usageRetryMaxMs: setting({
    env: ['ABPROXY_USAGE_RETRY_MAX_MS'],
    default: seconds(30),
    parse: integer(10, 3_600_000),
    doc: 'longest wait between retries while the store is unreachable',
  }),
  allowedOrigins: setting({
    env: ['ABPROXY_ALLOWED_ORIGINS'],
    default: [] as string[],
    parse: origins,
    doc: 'comma list of web origins (`https://app.example.com`) whose pages may call the gateway (CORS); every other browser request gets 403 (see [Security](#security))',
  }),
  trustedProxies: setting({
    env: ['ABPROXY_TRUSTED_PROXIES'],
    default: 0,
    parse: integer(0, 10),
    doc: 'how many proxies (load balancers) in front of the gateway append to X-Forwarded-For; the per-address limits (wrong master keys and API keys, wrong device codes, device grants) then count the address the first of them saw. Set it only when those proxies are the only way in (the CDK app: 1)',
  }),
  oidcIssuer: setting({
    env: ['ABPROXY_OIDC_ISSUER'],
    default: undefined,
    parse: httpUrl({ keepTrailingSlash: true }),
    doc: "sign-in: the company IdP's issuer URL (OpenID discovery); setting it turns sign-in on",
  }),
  oidcClientId: setting({
    env: ['ABPROXY_OIDC_CLIENT_ID'],
    default: undefined,
    parse: string({ emptyIsUnset: true }),
    doc: 'sign-in: the client id registered at the IdP',
  }),
  oidcClientSecret: setting({
    env: ['ABPROXY_OIDC_CLIENT_SECRET'],
    default: undefined,
    parse: string({ secret: true, emptyIsUnset: true }),
    secret: true,
    doc: 'sign-in: the client secret (unset: a public client, PKCE only)',
  }),
  oidcScopes: setting({
    env: ['ABPROXY_OIDC_SCOPES'],
    default: 'openid email profile offline_access',
    parse: string(),
    docDefault: 'see what',
    doc: 'sign-in: scopes asked of the IdP, default `openid email profile offline_access` (`offline_access` lets refreshes re-read groups)',
  }),
  oidcGroupsClaim: setting({
    env: ['ABPROXY_OIDC_GROUPS_CLAIM'],
    default: 'groups',
    parse: string(),
    doc: 'sign-in: the ID-token claim that lists the groups policies match',
  }),
  oidcAllowedDomains: setting({
    env: ['ABPROXY_OIDC_ALLOWED_DOMAINS'],
    default: undefined,
    parse: commaList({ lowercase: true }),
    docDefault: 'any',
    doc: 'sign-in: comma-separated email domains allowed to sign in',
  }),
  publicUrl: setting({
    env: ['ABPROXY_PUBLIC_URL'],
    default: undefined,
    parse: httpUrl(),
    docDefault: 'the listen address',
    doc: 'sign-in: the URL people reach the gateway at; the IdP redirect URI is `<it>/oauth/callback`',
  }),
  policies: setting({
    env: ['ABPROXY_POLICIES'],
    default: undefined,
    parse: policiesParser,
    doc: 'sign-in: JSON (or a JSON file path) of policies by IdP group or email domain: models, tier, limits, budget, managed settings (see Sign-in)',
  }),
  otelSdkDisabled: setting({
    env: ['OTEL_SDK_DISABLED'],
    default: false,
    parse: boolean,
    doc: 'traces: `true` turns OpenTelemetry off even when an endpoint is set (see [Traces](#traces))',
  }),
  otelTracesExporter: setting({
    env: ['OTEL_TRACES_EXPORTER'],
    default: 'otlp',
    parse: oneOf(['otlp', 'none'] as const),
    doc: 'traces: `otlp`, or `none` to export nothing',
  }),
  otelEndpoint: setting({
    env: ['OTEL_EXPORTER_OTLP_ENDPOINT'],
    default: undefined,
    parse: httpUrl(),
    docDefault: 'off',
    doc: 'traces: OTLP/HTTP base URL (`/v1/traces` is appended); setting it turns traces on',
  }),
  otelTracesEndpoint: setting({
    env: ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    default: undefined,
    parse: httpUrl({ keepTrailingSlash: true }),
    docDefault: 'off',
    doc: 'traces: full OTLP/HTTP traces URL, used as is (wins over `OTEL_EXPORTER_OTLP_ENDPOINT`)',
  }),
  otelProtocol: setting({
    env: ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    default: 'http/protobuf',
    parse: oneOf(OTLP_PROTOCOLS),
    doc: 'traces: `http/protobuf` or `http/json` (gRPC is not supported)',
  }),
  otelHeaders: setting({
    env: ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'],
    default: undefined,
    parse: keyValueList({ secret: true }),
    secret: true,
    doc: 'traces: headers sent with each export, `key=value,key=value` (e.g. an API key)',
  }),
  otelServiceName: setting({
    env: ['OTEL_SERVICE_NAME'],
    default: 'abproxy',
    parse: string(),
    doc: 'traces: `service.name` of the spans',
  }),
  otelResourceAttributes: setting({
    env: ['OTEL_RESOURCE_ATTRIBUTES'],
    default: undefined,
    parse: keyValueList(),
    doc: 'traces: extra resource attributes, `key=value,key=value`',
  }),
  otelTracesSampler: setting({
    env: ['OTEL_TRACES_SAMPLER'],
    default: 'parentbased_always_on',
    parse: oneOf(OTEL_SAMPLERS),
    doc: 'traces: `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio`',
  }),
  otelTracesSamplerArg: setting({
    env: ['OTEL_TRACES_SAMPLER_ARG'],
    default: 1,
    parse: decimal(0, 1),
    doc: 'traces: the sampling ratio of the `traceidratio` samplers',
  }),
  otelBspScheduleDelayMs: setting({
    env: ['OTEL_BSP_SCHEDULE_DELAY'],
    default: 5_000,
    parse: integer(0, 3_600_000),
    doc: 'traces: milliseconds between two exports of finished spans',
  }),
  traceContent: setting({
    env: ['ABPROXY_TRACE_CONTENT'],
    default: false,
    parse: boolean,
    doc: 'traces: put prompt and completion text (bounded) in spans; they may hold secrets',
  }),
};

type Specs = typeof SETTINGS;
export type SettingName = keyof Specs;
type ValueOf<S> = S extends SettingSpec<infer T, infer D> ? T | Exclude<D, typeof HOME_DEFAULT> : never;
export type Settings = { -readonly [K in SettingName]: ValueOf<Specs[K]> };

/** The table's entries in their order, typed loosely for code that walks all of them. */
export function settingEntries(): Array<[SettingName, SettingSpec<unknown>]> {
  return Object.entries(SETTINGS) as Array<[SettingName, SettingSpec<unknown>]>;
}

export function specOf(key: SettingName): SettingSpec<unknown> {
  return SETTINGS[key] as SettingSpec<unknown>;
}

/** Environment names per setting (derived from the table). */
export const ENV_NAMES = Object.fromEntries(settingEntries().map(([key, spec]) => [key, spec.env])) as Record<
  SettingName,
  readonly string[]
>;

/** A setting by its name (`maxBodyBytes`, `max-body-bytes`, any case) or one of its env names. */
export function settingKey(name: string): SettingName | undefined {
  const flat = name.replace(/[-_]/g, '').toLowerCase();
  for (const [key, spec] of settingEntries()) {
    if (key.toLowerCase() === flat) return key;
    if (spec.env.some((env) => env.toLowerCase() === name.toLowerCase())) return key;
  }
  return undefined;
}

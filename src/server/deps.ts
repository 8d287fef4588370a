import type { Config } from '../config/config.ts';
import type { ServerStats } from '../metrics/stats.ts';
import type { Catalogue } from '../models/catalogue.ts';
import type { ClaudeFeatureTable } from '../models/claude-features.ts';
import type { WebToolQuota } from '../tools/web/quota.ts';
import type { WebTools } from '../tools/web/types.ts';
import type { BedrockRuntime } from '../upstream/runtime.ts';
import type { BodyBudget } from './http/body-budget.ts';
import type { ThreadStore } from './messages/threads.ts';

/** The upstream calls the handlers make (a BedrockUpstream's runtime in production). */
export type Upstream = BedrockRuntime;

export type CatalogueView = Pick<Catalogue, 'snapshot'>;

/** What the route handlers need, built once per server. */
export interface AppDeps {
  config: Config;
  signingSecret: string;
  upstream: Upstream;
  catalogue: CatalogueView;
  /** Which body fields and betas Bedrock takes per Claude generation (built-in table + config overrides). */
  claudeFeatures: ClaudeFeatureTable;
  /** Live counters for the serve dashboard (absent in handler unit tests). */
  stats?: ServerStats;
  /** Search provider and page fetcher for the web server tools (absent: web tools are refused). */
  webTools?: WebTools;
  /** Per-key web tool permission and daily search cap (absent in handler unit tests: no limits). */
  webQuota?: WebToolQuota;
  /** Bytes of request bodies held at once (absent in handler unit tests: no bound). */
  bodyBudget?: BodyBudget;
  /** Message threads held between turns (absent: none held, every continue is thread_not_found). */
  threads?: ThreadStore;
}

/**
 * GET /v1/models and GET /v1/models/{id} from a catalogue snapshot. Pure.
 *
 * Lists the Claude models the catalogue can serve in its region by the id Anthropic lists (dated when
 * the model has a date; its dateless alias is retrieved and called, not listed: Claude Code's gateway
 * model discovery offers every listed Claude id, and an alias beside its dated id read as the same
 * model twice in its /model picker) and the callable non-Claude text models by the id to send (bare id
 * when on-demand, else the region's profile id). Claude first (newest first), then the rest by id.
 */
import { ApiError, echoed } from '../anthropic/errors.ts';
import {
  canonicalClaudeId,
  claudeDisplayName,
  claudeNameMatches,
  isClaudeLike,
  parseBedrockClaudeId,
  parseClientClaudeName,
} from './aliases.ts';
import { capabilitiesFor } from './capabilities.ts';
import { indexOf, invocationId } from './resolve.ts';
import type { CatalogueSnapshot } from './types.ts';

export interface AnthropicModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  /** RFC 3339; the snapshot date for dated Claude ids, else the Unix epoch (Bedrock gives no date). */
  created_at: string;
  /** The context window and largest `max_tokens` the gateway knows (capabilities.ts). */
  max_input_tokens: number | null;
  max_tokens: number | null;
  /** Listed models are callable: `active` (Bedrock's legacy ones are not listed). */
  lifecycle: 'active';
  deprecated_at: null;
  retires_at: null;
  /** Claude's model line (`sonnet`, `opus`, `haiku`, …); null for other models. */
  line: string | null;
  /** Not described: the Messages API answers what a model takes (SDK type: nullable). */
  capabilities: null;
}

/** The fields the SDK's ModelInfo declares beyond the first four, for a model's foundation id. */
function details(baseModelId: string, line: string | null) {
  const caps = capabilitiesFor(baseModelId);
  return {
    max_input_tokens: caps.contextWindow,
    max_tokens: caps.maxOutputTokens,
    lifecycle: 'active' as const,
    deprecated_at: null,
    retires_at: null,
    line,
    capabilities: null,
  };
}

export interface AnthropicModelList {
  data: AnthropicModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

export interface ListOptions {
  /** Page size; Anthropic's default is 20, max 1000. */
  limit?: number;
  afterId?: string;
  beforeId?: string;
  /** Only the models this says the caller may use (its key's model globs); all when absent. */
  visible?: (id: string) => boolean;
}

const EPOCH = '1970-01-01T00:00:00Z';

const lists = new WeakMap<CatalogueSnapshot, AnthropicModelInfo[]>();

/** Every model the snapshot can serve, in list order (cached per snapshot). */
export function allModels(snapshot: CatalogueSnapshot): AnthropicModelInfo[] {
  const cached = lists.get(snapshot);
  if (cached) return cached;
  const index = indexOf(snapshot);
  const seen = new Set<string>();
  const out: AnthropicModelInfo[] = [];
  const add = (id: string, display_name: string, created_at: string, more: ReturnType<typeof details>) => {
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ type: 'model', id, display_name, created_at, ...more });
  };

  for (const { baseModelId, parsed } of index.claude) {
    if (!invocationId(baseModelId, index, snapshot.region)) continue;
    const created = parsed.date
      ? `${parsed.date.slice(0, 4)}-${parsed.date.slice(4, 6)}-${parsed.date.slice(6, 8)}T00:00:00Z`
      : EPOCH;
    const display = index.models.get(baseModelId)?.name ?? claudeDisplayName(parsed);
    const more = details(baseModelId, parsed.tier);
    add(canonicalClaudeId(parsed), display, created, more);
  }

  const others: AnthropicModelInfo[] = [];
  for (const m of index.models.values()) {
    if (m.modelId.startsWith('anthropic.')) continue;
    if (!m.outputModalities.includes('TEXT') || !m.inputModalities.includes('TEXT')) continue;
    const id = invocationId(m.modelId, index, snapshot.region);
    if (!id || seen.has(id)) continue;
    seen.add(id);
    others.push({
      type: 'model',
      id,
      display_name: m.name ?? m.modelId,
      created_at: EPOCH,
      ...details(m.modelId, null),
    });
  }
  // By code unit (Bedrock ids are ASCII): localeCompare would load ICU's collator into the gateway.
  others.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  out.push(...others);
  lists.set(snapshot, out);
  return out;
}

export function toAnthropicModelList(
  snapshot: CatalogueSnapshot,
  opts: ListOptions = {},
): AnthropicModelList {
  const all = opts.visible ? allModels(snapshot).filter((m) => opts.visible!(m.id)) : allModels(snapshot);
  const limit = Math.min(Math.max(Math.trunc(opts.limit ?? 20), 1), 1000);
  let page: AnthropicModelInfo[];
  let hasMore: boolean;
  if (opts.beforeId !== undefined) {
    const end = positionOf(all, opts.beforeId);
    const start = Math.max(0, end - limit);
    page = all.slice(start, end);
    hasMore = start > 0;
  } else {
    const start = opts.afterId !== undefined ? positionOf(all, opts.afterId) + 1 : 0;
    page = all.slice(start, start + limit);
    hasMore = start + limit < all.length;
  }
  return { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null };
}

function positionOf(all: AnthropicModelInfo[], id: string): number {
  const at = all.findIndex((m) => m.id === id);
  if (at === -1) throw ApiError.invalid(`Invalid cursor: model ${id} is not in this list`);
  return at;
}

/** GET /v1/models/{id}: a listed id, or any Claude name the catalogue can serve (echoed as asked). */
export function toAnthropicModel(snapshot: CatalogueSnapshot, id: string): AnthropicModelInfo {
  const all = allModels(snapshot);
  const listed = all.find((m) => m.id === id);
  if (listed) return listed;
  if (isClaudeLike(id)) {
    const wanted = parseClientClaudeName(id);
    const index = indexOf(snapshot);
    const hit =
      wanted &&
      index.claude.find(
        (c) => claudeNameMatches(wanted, c.parsed) && invocationId(c.baseModelId, index, snapshot.region),
      );
    if (hit) {
      const canonical = all.find((m) => m.id === canonicalClaudeId(hit.parsed));
      if (canonical) return { ...canonical, id };
    }
  }
  // A Bedrock id (a foundation model or an inference profile), which /v1/messages takes too: the model
  // it calls, under the id asked for.
  const bedrock = bedrockIdEntry(snapshot, all, id);
  if (bedrock) return bedrock;
  throw new ApiError('not_found_error', `model: ${echoed(id)}`);
}

function bedrockIdEntry(
  snapshot: CatalogueSnapshot,
  all: AnthropicModelInfo[],
  id: string,
): AnthropicModelInfo | undefined {
  const index = indexOf(snapshot);
  const profile = index.profiles.get(id);
  const base = profile?.active ? profile.modelIds[0] : index.models.has(id) ? id : undefined;
  if (base === undefined) return undefined;
  const claude = parseBedrockClaudeId(base);
  const listedId = claude ? canonicalClaudeId(claude) : invocationId(base, index, snapshot.region);
  const listed = listedId === null ? undefined : all.find((m) => m.id === listedId);
  return listed && { ...listed, id };
}

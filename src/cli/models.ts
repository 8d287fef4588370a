/**
 * `abproxy models [--json] [--all] [--region R]`: the models the gateway can call in a region (read from
 * Bedrock's control plane: ListFoundationModels + ListInferenceProfiles), the Claude names and what they
 * resolve to, and what each model can do. `collectModels` is pure (snapshot in, report out); the JSON is
 * the report as is, documented in the README.
 */
import type { Command } from 'commander';
import { type Config, ConfigError } from '../config/config.ts';
import { loadConfig } from '../config/load.ts';
import {
  canonicalClaudeId,
  claudeAlias,
  claudeDisplayName,
  parseBedrockClaudeId,
} from '../models/aliases.ts';
import { capabilitiesFor } from '../models/capabilities.ts';
import { indexOf, invocationId, resolveModel } from '../models/resolve.ts';
import type { CatalogueSnapshot, ModelFamily, ReasoningControl, ServiceTier } from '../models/types.ts';
import type { OutputMode, Row } from '../ui/index.ts';
import { modelIdForUpstream, type UpstreamSpec, upstreamsServing } from '../upstream/upstreams.ts';
import { CliError, EXIT } from './errors.ts';

export interface ModelRow {
  /** The `model` value to send: the Claude id Anthropic uses, else the Bedrock id to call. */
  id: string;
  name: string;
  provider: string | null;
  /** What the gateway calls: the region's inference profile or the bare id; null when not callable here. */
  bedrockId: string | null;
  baseModelId: string;
  family: ModelFamily;
  callable: boolean;
  /** Takes and returns text (what /v1/messages needs). */
  text: boolean;
  /** Lifecycle ACTIVE (false: LEGACY). */
  active: boolean;
  tools: boolean;
  images: boolean;
  documents: boolean;
  reasoning: ReasoningControl['kind'];
  caching: boolean;
  tiers: ServiceTier[];
  contextWindow: number;
  maxOutputTokens: number;
  /**
   * With `ABPROXY_UPSTREAMS`: the upstreams that serve it (their `models` globs admit it and their own
   * catalogue has it), in list order.
   */
  upstreams?: string[];
  /** Served only by the bedrock-mantle host (its model list): the gateway calls it there, by its bare id. */
  mantleOnly?: true;
}

export interface AliasRow {
  alias: string;
  /** The Bedrock id the alias resolves to now; null when it cannot be served. */
  bedrockId: string | null;
  baseModelId: string | null;
  /** `config`: an explicit model map entry; `catalogue`: resolved from the live catalogue. */
  via: 'config' | 'catalogue';
  error?: string;
}

export interface ModelsReport {
  region: string;
  /** `live` from Bedrock; `builtin` is the gateway's own Claude table (only when Bedrock is unreachable). */
  source: 'live' | 'builtin';
  fetchedAt: string;
  models: ModelRow[];
  aliases: AliasRow[];
}

export interface CollectOptions {
  /** Include models that are not text-to-text or have no way to be called in the region. */
  all?: boolean;
  modelMap?: Record<string, string>;
  /** The configured upstreams: each row says which serve it. */
  upstreams?: readonly UpstreamCatalogue[];
}

/** One upstream as `models` sees it: its globs and, when read, whether its catalogue has an id. */
export interface UpstreamCatalogue extends Pick<UpstreamSpec, 'name' | 'models'> {
  /** Whether its own catalogue has the model (`undefined`: not known, e.g. its catalogue failed). */
  has?: (bedrockId: string) => boolean | undefined;
}

const SHORTHANDS = ['opus', 'sonnet', 'haiku', 'fable'];

export function collectModels(snapshot: CatalogueSnapshot, options: CollectOptions = {}): ModelsReport {
  const index = indexOf(snapshot);
  const region = snapshot.region;
  const rows: ModelRow[] = [];
  const claudeBases = new Set(index.claude.map((c) => c.baseModelId));

  const row = (baseModelId: string): ModelRow => {
    const model = index.models.get(baseModelId);
    const parsed = parseBedrockClaudeId(baseModelId);
    const bedrockId = invocationId(baseModelId, index, region);
    const caps = capabilitiesFor(baseModelId);
    // Profile-only models are missing from the model list; they are text models (Claude, Llama 4, …).
    const text =
      !model || (model.inputModalities.includes('TEXT') && model.outputModalities.includes('TEXT'));
    return {
      id: parsed ? canonicalClaudeId(parsed) : (bedrockId ?? baseModelId),
      name: model?.name ?? (parsed ? claudeDisplayName(parsed) : baseModelId),
      provider: model?.provider ?? (parsed ? 'Anthropic' : null),
      bedrockId,
      baseModelId,
      family: caps.family,
      callable: bedrockId !== null,
      text,
      active: model?.active ?? true,
      tools: caps.tools,
      images: caps.images,
      documents: caps.documents,
      reasoning: caps.reasoning.kind,
      caching: caps.caching,
      tiers: [...caps.tiers],
      contextWindow: caps.contextWindow,
      maxOutputTokens: caps.maxOutputTokens,
      ...(model?.mantleOnly ? { mantleOnly: true as const } : {}),
    };
  };

  for (const { baseModelId } of index.claude) rows.push(row(baseModelId));
  const others = new Set(snapshot.models.map((m) => m.modelId));
  for (const p of snapshot.profiles)
    if (p.type === 'SYSTEM_DEFINED') for (const id of p.modelIds) others.add(id);
  const rest = [...others].filter((id) => !claudeBases.has(id)).map(row);
  rest.sort((a, b) => a.id.localeCompare(b.id));
  rows.push(...rest);

  const upstreams = options.upstreams;
  if (upstreams) {
    for (const r of rows) {
      const id = r.bedrockId ?? r.baseModelId;
      const byName = new Map(upstreams.map((u) => [u.name, u]));
      r.upstreams = upstreamsServing(upstreams, id).filter((name) => byName.get(name)?.has?.(id) !== false);
    }
  }
  const models = options.all ? rows : rows.filter((r) => r.callable && r.text);
  return {
    region,
    source: snapshot.source,
    fetchedAt: new Date(snapshot.fetchedAt).toISOString(),
    models,
    aliases: collectAliases(snapshot, options.modelMap ?? {}),
  };
}

function collectAliases(snapshot: CatalogueSnapshot, modelMap: Record<string, string>): AliasRow[] {
  const index = indexOf(snapshot);
  const resolveAlias = (alias: string, via: AliasRow['via']): AliasRow => {
    try {
      const r = resolveModel(alias, snapshot, { region: snapshot.region, overrides: modelMap });
      return { alias, bedrockId: r.modelId, baseModelId: r.baseModelId, via };
    } catch (err) {
      return { alias, bedrockId: null, baseModelId: null, via, error: (err as Error).message };
    }
  };
  const out: AliasRow[] = Object.keys(modelMap)
    .sort()
    .map((alias) => resolveAlias(alias, 'config'));
  const seen = new Set(out.map((a) => a.alias));
  const names: string[] = [];
  for (const tier of SHORTHANDS) if (index.claude.some((c) => c.parsed.tier === tier)) names.push(tier);
  for (const { baseModelId, parsed } of index.claude) {
    if (invocationId(baseModelId, index, snapshot.region)) names.push(claudeAlias(parsed));
  }
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(resolveAlias(name, 'catalogue'));
  }
  return out;
}

/** 200000 → 200k, 131072 → 128k, 1000000 → 1M: how model cards write limits. */
export function tokenCount(n: unknown): string {
  const v = Number(n);
  if (v >= 1_000_000 && v % 1_000_000 === 0) return `${v / 1_000_000}M`;
  if (v >= 1000 && v % 1000 === 0) return `${v / 1000}k`;
  if (v >= 1024 && v % 1024 === 0) return `${v / 1024}k`;
  return String(v);
}

const MODEL_COLUMNS = [
  { key: 'id', header: 'MODEL' },
  { key: 'bedrockId', header: 'BEDROCK ID' },
  { key: 'tools', header: 'TOOLS' },
  { key: 'images', header: 'IMAGES' },
  { key: 'documents', header: 'DOCS' },
  { key: 'reasoning', header: 'REASONING', format: (v: unknown) => (v === 'none' ? 'no' : String(v)) },
  { key: 'caching', header: 'CACHING' },
  { key: 'tiers', header: 'TIERS' },
  { key: 'contextWindow', header: 'CONTEXT', align: 'right' as const, format: tokenCount },
  { key: 'maxOutputTokens', header: 'MAX OUT', align: 'right' as const, format: tokenCount },
];

const UPSTREAMS_COLUMN = {
  key: 'upstreams',
  header: 'UPSTREAMS',
  format: (v: unknown) => (Array.isArray(v) && v.length > 0 ? v.join(', ') : 'none'),
};

const ALIAS_COLUMNS = [
  { key: 'alias', header: 'ALIAS' },
  { key: 'target', header: 'RESOLVES TO' },
  { key: 'via', header: 'VIA' },
];

export interface ModelsFlags {
  json?: boolean;
  plain?: boolean;
  all?: boolean;
  region?: string;
  config?: string;
}

export interface ModelsIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * Reads the live catalogue; a failure to reach Bedrock is an error, not a silent built-in table. With
 * several upstreams each reads its own (as in `serve`): the report merges them and says which upstream
 * has what; only the first one failing is an error.
 */
async function liveSnapshot(
  config: Config,
  warn: (text: string) => void,
): Promise<{ snapshot: CatalogueSnapshot; upstreams?: UpstreamCatalogue[] }> {
  const { Catalogue, catalogueHas, mergeSnapshots } = await import('../models/catalogue.ts');
  if (config.upstreams) {
    const failures = new Map<string, unknown>();
    const set = (await import('../upstream/upstream-set.ts')).createUpstreams(config, {
      onCatalogueError: (err, name) => failures.set(name, err),
    });
    try {
      const snapshots = await Promise.all(set.each.map((e) => e.catalogue.refresh()));
      const first = set.each[0]!;
      if (snapshots[0]!.source !== 'live') throw catalogueError(first.region, failures.get(first.name));
      // Unread, it excludes nothing (as in `serve`): its column would claim every model without this.
      set.each.forEach((e, i) => {
        if (snapshots[i]!.source === 'live') return;
        const { name, message } = (failures.get(e.name) ?? {}) as { name?: string; message?: string };
        warn(
          `warning: the catalogue of upstream ${e.name} (${e.region}) could not be read (${name ?? 'Error'}: ${message ?? 'no answer'}): ` +
            "it is listed as serving every model its globs admit, as 'serve' routes to it. 'abproxy doctor' checks it.\n",
        );
      });
      const upstreams = set.each.map((e, i): UpstreamCatalogue => {
        const own = snapshots[i]!;
        const { region, profilePrefix } = e.spec;
        return {
          name: e.name,
          ...(e.spec.models === undefined ? {} : { models: e.spec.models }),
          has: (id) => catalogueHas(own, modelIdForUpstream(id, region, profilePrefix)),
        };
      });
      return { snapshot: mergeSnapshots(snapshots), upstreams };
    } finally {
      set.destroy();
    }
  }
  let failure: unknown;
  const [{ mantleModelLister }, { fromNodeProviderChain }, { credentialChainProxyOptions, readProxyEnv }] =
    await Promise.all([
      import('../upstream/mantle-models.ts'),
      import('@aws-sdk/credential-providers'),
      import('../upstream/proxy.ts'),
    ]);
  const catalogue = new Catalogue({
    region: config.region,
    onError: (err) => {
      failure = err;
    },
    // Left out of the table: said, or the Claude models only mantle serves would silently be missing.
    onMantleError: (err, region) =>
      warn(
        `warning: the bedrock-mantle model list in ${region} could not be read (${(err as Error).message ?? String(err)}): ` +
          "Claude models only bedrock-mantle serves are not listed. 'abproxy doctor' checks it.\n",
      ),
    // What only the bedrock-mantle host serves, as `serve` reads it (left out when it cannot be read).
    mantleModels: mantleModelLister({
      credentials: fromNodeProviderChain(credentialChainProxyOptions(readProxyEnv())),
      ...(config.mantleEndpoint === undefined ? {} : { endpoint: config.mantleEndpoint }),
      ...(config.bedrockApiKey === undefined ? {} : { bearerToken: config.bedrockApiKey }),
    }),
  });
  const snapshot = await catalogue.refresh();
  if (snapshot.source !== 'live') throw catalogueError(config.region, failure);
  return { snapshot };
}

function catalogueError(region: string, failure: unknown): CliError {
  const { name, message } = (failure ?? {}) as { name?: string; message?: string };
  return new CliError(
    `could not list Bedrock models in ${region}: ${name ?? 'Error'}: ${message ?? String(failure)}\n` +
      "Run 'abproxy doctor' to check credentials, region and network.",
  );
}

export async function models(flags: ModelsFlags, io: ModelsIo): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ flags: { region: flags.region }, configFile: flags.config });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  const { withProgress } = await import('../ui/index.ts');
  // Said once the progress line is done (it redraws the terminal's last line).
  const warnings: string[] = [];
  const { snapshot, upstreams } = await withProgress(
    config.upstreams
      ? `reading the Bedrock model catalogue of ${config.upstreams.length} upstreams`
      : `reading the Bedrock model catalogue in ${config.region}`,
    () => liveSnapshot(config, (text) => warnings.push(text)),
    {
      enabled: !flags.json,
      doneText: ({ snapshot: s }) =>
        `catalogue read: ${s.models.length} models, ${s.profiles.length} inference profiles`,
    },
  );
  for (const warning of warnings) io.stderr(warning);
  const report = collectModels(snapshot, {
    all: flags.all,
    modelMap: config.modelMap,
    ...(upstreams ? { upstreams } : {}),
  });
  if (flags.json) {
    io.stdout(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  await printModels(report, { plain: flags.plain }, io, flags.all === true);
}

/** The report for people: the model table, the alias table and a count (ink tables on a terminal). */
export async function printModels(
  report: ModelsReport,
  mode: OutputMode,
  io: Pick<ModelsIo, 'stdout'>,
  all = false,
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const { printTable } = await import('../ui/index.ts');
  const columns = report.models.some((m) => m.upstreams)
    ? [...MODEL_COLUMNS, UPSTREAMS_COLUMN]
    : MODEL_COLUMNS;
  await printTable(columns, report.models as unknown as Row[], mode, out);
  io.stdout('\n');
  const aliasRows = report.aliases.map((a) => ({
    ...a,
    target: a.bedrockId ?? `(${a.error ?? 'unavailable'})`,
  }));
  await printTable(ALIAS_COLUMNS, aliasRows, mode, out);
  io.stdout(
    `\n${report.models.length} models in ${report.region}${all ? '' : ' (text, callable; --all for every model)'}\n`,
  );
}

export function registerModels(program: Command, io: ModelsIo): void {
  program
    .command('models')
    .description('list the Bedrock models the gateway can call, the Claude aliases and their capabilities')
    .option('--json', 'print the report as JSON (stable; see README)')
    .option('--plain', 'plain text even on a terminal')
    .option('--all', 'include models that are not text-to-text or not callable in the region')
    .option('--region <region>', 'AWS region for Bedrock')
    .option('-c, --config <file>', 'JSON config file')
    .action((flags: ModelsFlags) => models(flags, io));
}

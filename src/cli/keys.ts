/**
 * `abproxy keys create|import|list|show|revoke`: API keys in the solo or team store. The secret is
 * printed once, by create/import, and stored only as a hash. `--json` prints the same data as JSON.
 */
import type { Command } from 'commander';
import {
  newKeyRecord as buildKeyRecord,
  type KeyJson,
  KeySpecError,
  type KeySpecField,
  keyJson,
} from '../auth/key-records.ts';
import { parseModelGlobs } from '../auth/model-globs.ts';
import { openStore } from '../store/open.ts';
import { AmbiguousKeyError, DuplicateKeyError, type KeyRecord, type Store } from '../store/types.ts';
import type { Column, OutputMode, Row } from '../ui/index.ts';
import { refuseUnknownSubcommands } from './default-subcommand.ts';
import { CliError, EXIT } from './errors.ts';
import { secretArgument } from './secret-input.ts';
import { addStoreOptions, adminConfig, explainAwsError, type StoreFlags } from './store-options.ts';

export interface KeysIo {
  stdout: (line: string) => void;
}

interface CreateFlags extends StoreFlags {
  name?: string;
  user?: string;
  serviceTier?: string;
  rateLimit?: string;
  tokensPerMinute?: string;
  budgetUsd?: string;
  concurrentRequests?: string;
  webSearch?: boolean;
  webSearchDaily?: string;
  models?: string;
  expires?: string;
  key?: string;
  json?: boolean;
}

interface OutputFlags extends StoreFlags {
  json?: boolean;
  plain?: boolean;
}

export type { KeyJson };
export { keyJson };

/** The flag each KeySpec field comes from, to word its errors. */
const FLAG_OF: Record<KeySpecField, string> = {
  name: '--name',
  user: '--user',
  serviceTier: '--service-tier',
  rateLimit: '--rate-limit',
  tokensPerMinute: '--tokens-per-minute',
  budgetUsd: '--budget-usd',
  concurrentRequests: '--concurrent-requests',
  webSearch: '--web-search',
  webSearchDaily: '--web-search-daily',
  models: '--models',
  expires: '--expires',
  key: '--key',
};

/** The record a create would store, from flags alone (pure apart from the random secret and id). */
export function newKeyRecord(flags: CreateFlags, now: Date): { record: KeyRecord; secret: string } {
  if (flags.models !== undefined && parseModelGlobs(flags.models).length === 0) {
    throw new CliError('--models: give at least one model glob', EXIT.usage);
  }
  try {
    return buildKeyRecord(flags, now);
  } catch (err) {
    if (err instanceof KeySpecError) throw new CliError(`${FLAG_OF[err.field]}: ${err.message}`, EXIT.usage);
    throw err;
  }
}

export async function withStore<T>(flags: StoreFlags, action: (store: Store) => Promise<T>): Promise<T> {
  const config = adminConfig(flags);
  let store: Store;
  try {
    store = await openStore(config);
  } catch (err) {
    throw new CliError(`cannot open the key store: ${(err as Error).message}`);
  }
  try {
    return await action(store);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (err instanceof AmbiguousKeyError) throw new CliError(err.message);
    if (err instanceof DuplicateKeyError) throw new CliError(`${err.message}`);
    return explainAwsError(err, config);
  } finally {
    await store.close();
  }
}

function describe(json: KeyJson): string[] {
  const lines = [`id:           ${json.id}`, `prefix:       ${json.prefix}`, `status:       ${json.status}`];
  if (json.name) lines.push(`name:         ${json.name}`);
  if (json.user) lines.push(`user:         ${json.user}`);
  lines.push(`service tier: ${json.service_tier ?? 'gateway default'}`);
  lines.push(`models:       ${json.models ? json.models.join(', ') : 'all'}`);
  if (json.rate_limit_rpm) lines.push(`rate limit:   ${json.rate_limit_rpm} requests/min`);
  if (json.tokens_per_minute) lines.push(`token limit:  ${json.tokens_per_minute} tokens/min`);
  if (json.budget_usd) lines.push(`budget:       $${json.budget_usd}`);
  if (json.concurrent_requests) lines.push(`concurrency:  ${json.concurrent_requests} requests at once`);
  lines.push(
    `web search:   ${json.web_search ? (json.web_search_daily ? `${json.web_search_daily} searches/day` : 'allowed') : 'refused'}`,
  );
  lines.push(`created:      ${json.created_at}`);
  if (json.expires_at) lines.push(`expires:      ${json.expires_at}`);
  if (json.revoked_at) lines.push(`revoked:      ${json.revoked_at}`);
  // One line per field: a line feed in a name or user would add a line (`status: revoked`) to the output
  // scripts read. Spelled as terminalOutput spells the other controls.
  return lines.map((line) => line.replaceAll('\n', '\\u000a'));
}

async function create(flags: CreateFlags, io: KeysIo): Promise<void> {
  if (flags.key !== undefined) {
    flags.key = await secretArgument(flags.key, '--key');
    // `keys import "$SEED_KEY"` with the variable unset: a new random key would pass for the import.
    if (flags.key.trim() === '') throw new CliError('--key: the key to store is empty', EXIT.usage);
  }
  const { record, secret } = newKeyRecord(flags, new Date());
  await withStore(flags, (store) => store.createKey(record));
  const json = keyJson(record);
  if (flags.json) {
    io.stdout(JSON.stringify({ ...json, key: secret }));
    return;
  }
  io.stdout(secret);
  for (const line of describe(json)) io.stdout(line);
  io.stdout('Store the key now: it is not shown again (only its hash is kept).');
}

/** What `keys list` shows: the stable plain columns (the ink table on a terminal has the same cells). */
export const KEY_COLUMNS: readonly Column[] = [
  { key: 'id', header: 'ID' },
  { key: 'prefix', header: 'PREFIX' },
  { key: 'name', header: 'NAME' },
  { key: 'user', header: 'USER' },
  { key: 'service_tier', header: 'TIER' },
  { key: 'models', header: 'MODELS', format: (v) => (Array.isArray(v) ? v.join(',') : '*') },
  { key: 'status', header: 'STATUS' },
  { key: 'created_at', header: 'CREATED', format: (v) => String(v).slice(0, 19).replace('T', ' ') },
];

/** The keys as data: the `--json` rows. */
export async function collectKeys(flags: StoreFlags, now = Date.now()): Promise<KeyJson[]> {
  const records = await withStore(flags, async (store) => {
    const keys = await store.listKeys();
    // A table of another schema scans as empty: "no keys yet" would hide a wrong --table-prefix.
    if (keys.length === 0) await refuseForeignTables(store, adminConfig(flags).tablePrefix);
    return keys;
  });
  return records.map((record) => keyJson(record, now));
}

/** Team mode: the tables are abproxy's (serve checks the same at start), else a usage-level error. */
async function refuseForeignTables(store: Store, prefix: string): Promise<void> {
  const problems = await store.tableProblems?.();
  if (problems && problems.length > 0) {
    throw new CliError(
      `the DynamoDB tables '${prefix}-*' are not abproxy's (${problems.join('; ')}): ` +
        `'abproxy tables setup --table-prefix ${prefix} --dry-run' checks them`,
    );
  }
}

/** The keys for people: an ink table on a terminal, plain text otherwise. */
export async function printKeys(
  rows: readonly KeyJson[],
  mode: OutputMode,
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const { printList } = await import('../ui/index.ts');
  await printList(
    KEY_COLUMNS,
    rows as unknown as Row[],
    "no keys yet: create one with 'abproxy keys create'",
    mode,
    out,
  );
}

async function list(flags: OutputFlags, io: KeysIo): Promise<void> {
  const rows = await collectKeys(flags);
  if (flags.json) {
    io.stdout(JSON.stringify(rows));
    return;
  }
  await printKeys(rows, { plain: flags.plain });
  // People signed in with the company IdP hold no key but spend like keys do (usage by their prn_ id).
  const { collectPrincipals, printPrincipals } = await import('./principals.ts');
  // A team store set up before sign-in existed has no -signin table: the keys are still listed.
  const principals = await collectPrincipals(flags).catch(() => []);
  if (principals.length > 0) {
    process.stdout.write('\nsigned in with the company IdP (abproxy principals list):\n');
    await printPrincipals(principals, { plain: flags.plain });
  }
}

/**
 * The shortest prefix that names a key: `abp_` (or a slip such as `a`) starts every key's prefix, and
 * names the only one, so `keys revoke a` revoked it. Eight characters is abp_ and four of the random part.
 */
const MIN_PREFIX_REF = 8;

async function findOrFail(store: Store, ref: string): Promise<KeyRecord> {
  if (ref !== '' && !ref.startsWith('key_') && ref.length < MIN_PREFIX_REF) {
    throw new CliError(
      `'${ref}' is too short to name a key: give its id or at least ${MIN_PREFIX_REF} characters of its prefix`,
      EXIT.usage,
    );
  }
  const record = await store.getKey(ref);
  if (!record) throw new CliError(`no key '${ref}' (give a key id or the start of its prefix)`);
  return record;
}

async function show(ref: string, flags: OutputFlags, io: KeysIo): Promise<void> {
  const record = await withStore(flags, (store) => findOrFail(store, ref));
  const json = keyJson(record);
  if (flags.json) io.stdout(JSON.stringify(json));
  else for (const line of describe(json)) io.stdout(line);
}

async function revoke(ref: string, flags: OutputFlags, io: KeysIo): Promise<void> {
  const { record, result } = await withStore(flags, async (store) => {
    const found = await findOrFail(store, ref);
    const outcome = await store.revokeKey(found.id, new Date().toISOString());
    if (outcome === 'not-found') throw new CliError(`key ${found.id} disappeared while revoking`);
    return { record: (await store.getKey(found.id)) ?? found, result: outcome };
  });
  const json = keyJson(record);
  if (flags.json) io.stdout(JSON.stringify({ ...json, result }));
  else
    io.stdout(
      result === 'revoked'
        ? `revoked ${json.id} (${json.prefix})`
        : `${json.id} was already revoked at ${json.revoked_at}`,
    );
}

function addCreateOptions(command: Command): Command {
  return addStoreOptions(
    command
      .option('--name <name>', 'a label for the key')
      .option('--user <user>', 'who the key is for')
      .option('--service-tier <tier>', 'Bedrock service tier: default, flex, priority or reserved')
      .option('--rate-limit <rpm>', 'requests per minute')
      .option('--tokens-per-minute <n>', 'tokens per minute')
      .option('--budget-usd <n>', 'spending budget in US dollars')
      .option('--concurrent-requests <n>', 'most model calls in flight at once')
      .option('--web-search', 'may use the web search/fetch server tools (the default)')
      .option('--no-web-search', 'may not use the web search/fetch server tools')
      .option('--web-search-daily <n>', 'most web searches per UTC day')
      .option('--models <globs>', "allowed models, comma-separated globs (e.g. 'claude-*,qwen.*')")
      .option('--expires <duration>', 'lifetime such as 30d, 12h or 90m')
      .option('--json', 'print JSON'),
  );
}

export function registerKeys(program: Command, io: KeysIo): void {
  const keys = program.command('keys').description('create, list, show and revoke API keys');
  addCreateOptions(
    keys
      .command('create')
      .description('create a key and print its secret (once)')
      .option(
        '--key <secret>',
        "store this existing key (abp_… or the seed converter's sk-…) instead of a new one; '-' reads it from standard input",
      ),
  ).action((flags: CreateFlags) => create(flags, io));
  addCreateOptions(
    keys
      .command('import <secret>')
      .description(
        "store an existing key (the seed converter's sk-… keys); '-' reads it from standard input",
      ),
  ).action((secret: string, flags: CreateFlags) => create({ ...flags, key: secret }, io));
  addStoreOptions(
    keys
      .command('list', { isDefault: true })
      .description('list keys, never their secrets (the default)')
      .option('--json', 'print JSON')
      .option('--plain', 'plain text even on a terminal'),
  ).action((flags: OutputFlags) => list(flags, io));
  addStoreOptions(
    keys.command('show <id>').description('show one key by id or prefix').option('--json', 'print JSON'),
  ).action((ref: string, flags: OutputFlags) => show(ref, flags, io));
  addStoreOptions(
    keys
      .command('revoke <id>')
      .description('revoke a key by id or prefix (takes effect at once in solo mode)')
      .option('--json', 'print JSON'),
  ).action((ref: string, flags: OutputFlags) => revoke(ref, flags, io));
  refuseUnknownSubcommands(keys, 'list');
}

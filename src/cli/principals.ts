/**
 * `abproxy principals list|disable|enable`: the people who signed in with the company IdP. Disabling
 * refuses every token of theirs at once in solo mode, within the key cache time in team mode, and
 * their next sign-in. `--json` prints the same data as JSON.
 */
import type { Command } from 'commander';
import type { Principal, Store } from '../store/types.ts';
import type { Column, OutputMode, Row } from '../ui/index.ts';
import { refuseUnknownSubcommands } from './default-subcommand.ts';
import { CliError } from './errors.ts';
import { withStore } from './keys.ts';
import { addStoreOptions, type StoreFlags } from './store-options.ts';

export interface PrincipalsIo {
  stdout: (line: string) => void;
}

interface OutputFlags extends StoreFlags {
  json?: boolean;
  plain?: boolean;
}

/** The stable `--json` shape of a principal. */
export interface PrincipalJson {
  id: string;
  email: string;
  sub: string;
  groups: string[];
  policy: string | null;
  created_at: string;
  last_seen_at: string;
  disabled_at: string | null;
  status: 'active' | 'disabled';
}

export function principalJson(principal: Principal): PrincipalJson {
  return {
    id: principal.id,
    email: principal.email,
    sub: principal.sub,
    groups: principal.groups,
    policy: principal.policy ?? null,
    created_at: principal.createdAt,
    last_seen_at: principal.lastSeenAt,
    disabled_at: principal.disabledAt ?? null,
    status: principal.disabledAt ? 'disabled' : 'active',
  };
}

const time = (v: unknown) => String(v).slice(0, 19).replace('T', ' ');

export const PRINCIPAL_COLUMNS: readonly Column[] = [
  { key: 'id', header: 'ID' },
  { key: 'email', header: 'EMAIL' },
  { key: 'policy', header: 'POLICY' },
  { key: 'groups', header: 'GROUPS', format: (v) => (Array.isArray(v) ? v.join(',') : '') },
  { key: 'status', header: 'STATUS' },
  { key: 'last_seen_at', header: 'LAST SEEN', format: time },
];

export async function collectPrincipals(flags: StoreFlags): Promise<PrincipalJson[]> {
  return (await withStore(flags, (store) => store.listPrincipals())).map(principalJson);
}

export async function printPrincipals(
  rows: readonly PrincipalJson[],
  mode: OutputMode,
  out: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const { printList } = await import('../ui/index.ts');
  await printList(PRINCIPAL_COLUMNS, rows as unknown as Row[], 'no one has signed in yet', mode, out);
}

/** By id, else by email (case-insensitive). */
async function findPrincipal(store: Store, ref: string): Promise<Principal> {
  const byId = ref.startsWith('prn_') ? await store.getPrincipal(ref) : undefined;
  if (byId) return byId;
  const email = ref.toLowerCase();
  const found = (await store.listPrincipals()).find((p) => p.email === email);
  if (!found) throw new CliError(`no principal '${ref}' (give a prn_… id or an email)`);
  return found;
}

async function setDisabled(
  ref: string,
  disable: boolean,
  flags: OutputFlags,
  io: PrincipalsIo,
): Promise<void> {
  const principal = await withStore(flags, async (store) => {
    const found = await findPrincipal(store, ref);
    const at = disable ? (found.disabledAt ?? new Date().toISOString()) : undefined;
    if (!(await store.setPrincipalDisabled(found.id, at)))
      throw new CliError(`principal ${found.id} disappeared`);
    return (await store.getPrincipal(found.id)) ?? found;
  });
  const json = principalJson(principal);
  if (flags.json) io.stdout(JSON.stringify(json));
  else io.stdout(`${disable ? 'disabled' : 'enabled'} ${json.id} (${json.email})`);
}

export function registerPrincipals(program: Command, io: PrincipalsIo): void {
  const principals = program
    .command('principals')
    .description('people signed in with the company IdP: list, disable, enable');
  addStoreOptions(
    principals
      .command('list', { isDefault: true })
      .description('list principals with their groups and policy (the default)')
      .option('--json', 'print JSON')
      .option('--plain', 'plain text even on a terminal'),
  ).action(async (flags: OutputFlags) => {
    const rows = await collectPrincipals(flags);
    if (flags.json) io.stdout(JSON.stringify(rows));
    else await printPrincipals(rows, { plain: flags.plain });
  });
  const switches = [
    ['disable', true, 'refuse every token of this person, and their next sign-in'],
    ['enable', false, 'let a disabled person sign in again'],
  ] as const;
  for (const [name, disabled, description] of switches) {
    addStoreOptions(
      principals.command(`${name} <id-or-email>`).description(description).option('--json', 'print JSON'),
    ).action((ref: string, flags: OutputFlags) => setDisabled(ref, disabled, flags, io));
  }
  refuseUnknownSubcommands(principals, 'list');
}

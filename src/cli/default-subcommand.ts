/**
 * Command groups that run one of their subcommands when given none (`abproxy keys` lists keys,
 * `abproxy config --json` shows the settings), as scripts expect of `keys`, `config` and `principals`.
 */
import type { Command } from 'commander';

/**
 * For a group whose subcommand `name` was added with `{ isDefault: true }`: a word that names no
 * subcommand (`keys revok x`) is still refused as an unknown command, not handed to the default as
 * its arguments ("too many arguments for 'list'").
 */
export function refuseUnknownSubcommands(group: Command, name: string): Command {
  return group.hook('preSubcommand', (parent, dispatched) => {
    const first = parent.args[0];
    if (dispatched.name() !== name || first === undefined || first === name || first.startsWith('-')) return;
    parent.error(`error: unknown command '${first}' (see 'abproxy ${parent.name()} --help')`, {
      code: 'commander.unknownCommand',
    });
  });
}

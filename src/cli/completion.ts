/**
 * `abproxy completion bash|zsh|fish`: shell completion scripts generated from the commander tree, so a
 * new command or option is completed without anyone editing a script. completions/ holds the generated
 * files (`npm run completions`), and a test fails when they differ from what this module generates.
 */
import { Argument, type Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface OptionSpec {
  /** `--port` and `-p` as typed. */
  names: string[];
  takesValue: boolean;
  choices: string[];
  description: string;
}

export interface CommandSpec {
  /** Command names from the root, e.g. ['config', 'get']; [] for the program itself. */
  path: string[];
  description: string;
  subcommands: { name: string; description: string }[];
  options: OptionSpec[];
  /** Choices of its positional arguments (e.g. the shell of `completion`). */
  argChoices: string[];
}

const HELP: OptionSpec = {
  names: ['--help', '-h'],
  takesValue: false,
  choices: [],
  description: 'show help',
};

/** Every command in the tree, parents before children. */
export function commandSpecs(program: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const visit = (cmd: Command, path: string[]) => {
    const subs = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
    out.push({
      path,
      description: cmd.description(),
      subcommands: subs.map((c) => ({ name: c.name(), description: c.description() })),
      options: [
        ...cmd.options
          .filter((o) => !o.hidden)
          .map((o) => ({
            names: [o.long, o.short].filter((n): n is string => typeof n === 'string'),
            takesValue: o.required || o.optional,
            choices: o.argChoices ?? [],
            description: o.description,
          })),
        HELP,
      ],
      argChoices: cmd.registeredArguments.flatMap((a) => a.argChoices ?? []),
    });
    for (const sub of subs) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return out;
}

const HEADER = (shell: Shell) =>
  `${shell} completion for abproxy. Generated from the command tree by \`abproxy completion ${shell}\`;\n` +
  '# do not edit (run `npm run completions`).';

/** One `case` arm per command path: `"config get") echo "...";;` */
function caseArms(specs: CommandSpec[], words: (s: CommandSpec) => string[], indent: string): string {
  return specs
    .map((s) => ({ key: s.path.join(' '), words: words(s) }))
    .filter((arm) => arm.words.length > 0)
    .map((arm) => `${indent}"${arm.key}") echo "${arm.words.join(' ')}" ;;`)
    .join('\n');
}

function valueChoiceArms(specs: CommandSpec[], indent: string): string {
  const arms: string[] = [];
  for (const s of specs) {
    for (const o of s.options) {
      if (!o.takesValue || o.choices.length === 0) continue;
      for (const name of o.names)
        arms.push(`${indent}"${[...s.path, name].join(' ')}") echo "${o.choices.join(' ')}" ;;`);
    }
  }
  return arms.join('\n');
}

const subcommandWords = (s: CommandSpec) => s.subcommands.map((c) => c.name);
const optionWords = (s: CommandSpec) => s.options.flatMap((o) => o.names.filter((n) => n.startsWith('--')));
const valueOptionWords = (s: CommandSpec) => s.options.filter((o) => o.takesValue).flatMap((o) => o.names);

/** Shell functions both bash and zsh use: the tree as case tables. */
function tables(specs: CommandSpec[]): string {
  return `_abproxy_subcommands() {
  case "$1" in
${caseArms(specs, subcommandWords, '    ')}
  esac
}

_abproxy_options() {
  case "$1" in
${caseArms(specs, optionWords, '    ')}
  esac
}

_abproxy_value_options() {
  case "$1" in
${caseArms(specs, valueOptionWords, '    ')}
  esac
}

_abproxy_arg_choices() {
  case "$1" in
${caseArms(specs, (s) => s.argChoices, '    ')}
  esac
}

_abproxy_value_choices() {
  case "$1" in
${valueChoiceArms(specs, '    ')}
  esac
}`;
}

/**
 * One word of the walk to the cursor, the same in bash and zsh: an option (without `=`) that takes a
 * value makes the next word its value; a subcommand of the path so far extends the path.
 */
const WALK_WORD = `    if [[ "$w" == -* ]]; then
      if [[ "$w" != *=* && " $(_abproxy_value_options "$path") " == *" $w "* ]]; then value_of="$w"; fi
      continue
    fi
    if [[ " $(_abproxy_subcommands "$path") " == *" $w "* ]]; then path="\${path:+$path }$w"; fi`;

export function bashScript(program: Command): string {
  return `# ${HEADER('bash')}
# Install: source this file from ~/.bashrc, or copy it to ~/.local/share/bash-completion/completions/abproxy

${tables(commandSpecs(program))}

# Walks the words before the cursor to find the command path, skipping options and their values.
_abproxy() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  local path="" value_of="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ -n "$value_of" ]]; then value_of=""; continue; fi
    # After --, the words belong to another program (abproxy claude -- …): complete file names.
    if [[ "$w" == "--" ]]; then COMPREPLY=(); compopt -o default 2>/dev/null; return 0; fi
${WALK_WORD}
  done
  if [[ -n "$value_of" ]]; then
    local choices
    choices="$(_abproxy_value_choices "\${path:+$path }$value_of")"
    if [[ -n "$choices" ]]; then
      mapfile -t COMPREPLY < <(compgen -W "$choices" -- "$cur")
    else
      COMPREPLY=(); compopt -o default 2>/dev/null
    fi
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_abproxy_options "$path")" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_abproxy_subcommands "$path") $(_abproxy_arg_choices "$path")" -- "$cur")
  fi
  return 0
}

complete -F _abproxy abproxy
`;
}

function zshQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `name:description` entries for _describe, per command path. */
function describedArms(specs: CommandSpec[], entries: (s: CommandSpec) => [string, string][]): string {
  return specs
    .map((s) => ({ key: s.path.join(' '), entries: entries(s) }))
    .filter((arm) => arm.entries.length > 0)
    .map(
      (arm) =>
        `    "${arm.key}") items=(${arm.entries.map(([n, d]) => zshQuote(`${n}:${d.replace(/:/g, '\\:')}`)).join(' ')}) ;;`,
    )
    .join('\n');
}

export function zshScript(program: Command): string {
  const specs = commandSpecs(program);
  return `#compdef abproxy
# ${HEADER('zsh')}
# Install: copy to a directory on $fpath as _abproxy (e.g. ~/.zfunc/_abproxy), then run compinit.

${tables(specs)}

_abproxy_described() {
  local -a items
  case "$1" in
${describedArms(specs, (s) => s.subcommands.map((c) => [c.name, c.description]))}
  esac
  (( \${#items} )) && _describe -t commands 'abproxy command' items
}

_abproxy_described_options() {
  local -a items
  case "$1" in
${describedArms(specs, (s) => s.options.flatMap((o) => o.names.filter((n) => n.startsWith('--')).map((n) => [n, o.description] as [string, string])))}
  esac
  (( \${#items} )) && _describe -t options 'option' items
}

_abproxy() {
  local path="" value_of="" i w
  for ((i = 2; i < CURRENT; i++)); do
    w="\${words[i]}"
    if [[ -n "$value_of" ]]; then value_of=""; continue; fi
    if [[ "$w" == "--" ]]; then _files; return; fi
${WALK_WORD}
  done
  if [[ -n "$value_of" ]]; then
    local -a choices
    choices=(\${=$(_abproxy_value_choices "\${path:+$path }$value_of")})
    if (( \${#choices} )); then compadd -a choices; else _files; fi
    return
  fi
  if [[ "$PREFIX" == -* ]]; then
    _abproxy_described_options "$path"
  else
    local -a args
    args=(\${=$(_abproxy_arg_choices "$path")})
    (( \${#args} )) && compadd -a args
    _abproxy_described "$path"
  fi
}

if [[ "$funcstack[1]" == "_abproxy" ]]; then
  _abproxy "$@"
else
  compdef _abproxy abproxy
fi
`;
}

function fishQuote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The fish condition that holds while completing inside `path`. */
function fishCondition(path: string[], specs: CommandSpec[]): string {
  if (path.length === 0) return '__fish_use_subcommand';
  const parts = path.map((name) => `__fish_seen_subcommand_from ${name}`);
  const children = specs.find((s) => s.path.join(' ') === path.join(' '))?.subcommands ?? [];
  if (children.length > 0) {
    parts.push(`not __fish_seen_subcommand_from ${children.map((c) => c.name).join(' ')}`);
  }
  return parts.join('; and ');
}

export function fishScript(program: Command): string {
  const specs = commandSpecs(program);
  const lines = [
    `# ${HEADER('fish')}`,
    '# Install: copy to ~/.config/fish/completions/abproxy.fish',
    '',
    'complete -c abproxy -f',
  ];
  for (const spec of specs) {
    const cond = fishQuote(fishCondition(spec.path, specs));
    lines.push('', `# abproxy ${spec.path.join(' ')}`.trimEnd());
    for (const sub of spec.subcommands) {
      lines.push(`complete -c abproxy -n ${cond} -a ${sub.name} -d ${fishQuote(sub.description)}`);
    }
    if (spec.argChoices.length > 0) {
      lines.push(`complete -c abproxy -n ${cond} -a ${fishQuote(spec.argChoices.join(' '))}`);
    }
    for (const o of spec.options) {
      const flags = o.names
        .map((n) => (n.startsWith('--') ? `-l ${n.slice(2)}` : `-s ${n.slice(1)}`))
        .join(' ');
      const value =
        o.choices.length > 0 ? ` -x -a ${fishQuote(o.choices.join(' '))}` : o.takesValue ? ' -r -F' : '';
      lines.push(`complete -c abproxy -n ${cond} ${flags}${value} -d ${fishQuote(o.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(program: Command, shell: Shell): string {
  switch (shell) {
    case 'bash':
      return bashScript(program);
    case 'zsh':
      return zshScript(program);
    case 'fish':
      return fishScript(program);
    default: {
      const never: never = shell;
      throw new Error(`unknown shell ${String(never)}`);
    }
  }
}

export function registerCompletion(program: Command, stdout: (text: string) => void): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(SHELLS))
    .action((shell: Shell) => stdout(completionScript(program, shell)));
}

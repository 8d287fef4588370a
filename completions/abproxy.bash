# bash completion for abproxy. Generated from the command tree by `abproxy completion bash`;
# do not edit (run `npm run completions`).
# Install: source this file from ~/.bashrc, or copy it to ~/.local/share/bash-completion/completions/abproxy

_abproxy_subcommands() {
  case "$1" in
    "") echo "serve keys principals login token logout tables usage claude models config doctor admin completion" ;;
    "keys") echo "create import list show revoke" ;;
    "principals") echo "list disable enable" ;;
    "tables") echo "setup" ;;
    "config") echo "get set unset path" ;;
  esac
}

_abproxy_options() {
  case "$1" in
    "") echo "--version --help" ;;
    "serve") echo "--port --host --region --config --plain --mode --db --table-prefix --help" ;;
    "keys") echo "--help" ;;
    "keys create") echo "--key --name --user --service-tier --rate-limit --tokens-per-minute --budget-usd --concurrent-requests --web-search --no-web-search --web-search-daily --models --expires --json --mode --db --table-prefix --region --config --help" ;;
    "keys import") echo "--name --user --service-tier --rate-limit --tokens-per-minute --budget-usd --concurrent-requests --web-search --no-web-search --web-search-daily --models --expires --json --mode --db --table-prefix --region --config --help" ;;
    "keys list") echo "--json --plain --mode --db --table-prefix --region --config --help" ;;
    "keys show") echo "--json --mode --db --table-prefix --region --config --help" ;;
    "keys revoke") echo "--json --mode --db --table-prefix --region --config --help" ;;
    "principals") echo "--help" ;;
    "principals list") echo "--json --plain --mode --db --table-prefix --region --config --help" ;;
    "principals disable") echo "--json --mode --db --table-prefix --region --config --help" ;;
    "principals enable") echo "--json --mode --db --table-prefix --region --config --help" ;;
    "login") echo "--gateway --config --json --help" ;;
    "token") echo "--gateway --config --help" ;;
    "logout") echo "--gateway --config --json --help" ;;
    "tables") echo "--help" ;;
    "tables setup") echo "--table-prefix --region --dry-run --json --config --help" ;;
    "usage") echo "--key --session --agent --since --until --by --format --json --plain --mode --db --table-prefix --region --config --help" ;;
    "claude") echo "--model --small-model --port --gateway --bedrock --claude-bin --region --config --no-onboarding-fix --help" ;;
    "models") echo "--json --plain --all --region --config --help" ;;
    "config") echo "--help" ;;
    "config get") echo "--json --show-secrets --help" ;;
    "config set") echo "--json --help" ;;
    "config unset") echo "--json --help" ;;
    "config path") echo "--json --help" ;;
    "doctor") echo "--json --deep --model --region --port --config --help" ;;
    "admin") echo "--url --print --json --config --help" ;;
    "completion") echo "--help" ;;
  esac
}

_abproxy_value_options() {
  case "$1" in
    "serve") echo "--port -p --host --region --config -c --mode --db --table-prefix" ;;
    "keys create") echo "--key --name --user --service-tier --rate-limit --tokens-per-minute --budget-usd --concurrent-requests --web-search-daily --models --expires --mode --db --table-prefix --region --config -c" ;;
    "keys import") echo "--name --user --service-tier --rate-limit --tokens-per-minute --budget-usd --concurrent-requests --web-search-daily --models --expires --mode --db --table-prefix --region --config -c" ;;
    "keys list") echo "--mode --db --table-prefix --region --config -c" ;;
    "keys show") echo "--mode --db --table-prefix --region --config -c" ;;
    "keys revoke") echo "--mode --db --table-prefix --region --config -c" ;;
    "principals list") echo "--mode --db --table-prefix --region --config -c" ;;
    "principals disable") echo "--mode --db --table-prefix --region --config -c" ;;
    "principals enable") echo "--mode --db --table-prefix --region --config -c" ;;
    "login") echo "--gateway --config -c" ;;
    "token") echo "--gateway --config -c" ;;
    "logout") echo "--gateway --config -c" ;;
    "tables setup") echo "--table-prefix --region --config -c" ;;
    "usage") echo "--key --session --agent --since --until --by --format --mode --db --table-prefix --region --config -c" ;;
    "claude") echo "--model --small-model --port --gateway --claude-bin --region --config -c" ;;
    "models") echo "--region --config -c" ;;
    "doctor") echo "--model --region --port -p --config -c" ;;
    "admin") echo "--url --config -c" ;;
  esac
}

_abproxy_arg_choices() {
  case "$1" in
    "completion") echo "bash zsh fish" ;;
  esac
}

_abproxy_value_choices() {
  case "$1" in

  esac
}

# Walks the words before the cursor to find the command path, skipping options and their values.
_abproxy() {
  local cur="${COMP_WORDS[COMP_CWORD]}"
  local path="" value_of="" i w
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="${COMP_WORDS[i]}"
    if [[ -n "$value_of" ]]; then value_of=""; continue; fi
    # After --, the words belong to another program (abproxy claude -- …): complete file names.
    if [[ "$w" == "--" ]]; then COMPREPLY=(); compopt -o default 2>/dev/null; return 0; fi
    if [[ "$w" == -* ]]; then
      if [[ "$w" != *=* && " $(_abproxy_value_options "$path") " == *" $w "* ]]; then value_of="$w"; fi
      continue
    fi
    if [[ " $(_abproxy_subcommands "$path") " == *" $w "* ]]; then path="${path:+$path }$w"; fi
  done
  if [[ -n "$value_of" ]]; then
    local choices
    choices="$(_abproxy_value_choices "${path:+$path }$value_of")"
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

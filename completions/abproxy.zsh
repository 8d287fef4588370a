#compdef abproxy
# zsh completion for abproxy. Generated from the command tree by `abproxy completion zsh`;
# do not edit (run `npm run completions`).
# Install: copy to a directory on $fpath as _abproxy (e.g. ~/.zfunc/_abproxy), then run compinit.

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

_abproxy_described() {
  local -a items
  case "$1" in
    "") items=('serve:run the gateway (Anthropic Messages API → AWS Bedrock)' 'keys:create, list, show and revoke API keys' 'principals:people signed in with the company IdP\: list, disable, enable' 'login:sign in to a gateway with the company IdP (device flow); tokens kept in ABPROXY_HOME, 0600' 'token:print a valid access token for the gateway, refreshing it if needed (for Claude Code'\''s apiKeyHelper)' 'logout:revoke and forget the tokens of a gateway' 'tables:team mode\: DynamoDB tables' 'usage:requests, tokens and estimated cost per key, model, day, Claude Code session or agent' 'claude:run Claude Code on Bedrock through the gateway (reuses a running one or starts its own)' 'models:list the Bedrock models the gateway can call, the Claude aliases and their capabilities' 'config:show and edit settings (the file is ABPROXY_HOME/config.json)' 'doctor:check credentials, region, Bedrock access, storage, the port and the claude binary' 'admin:open the admin web page of the running gateway, signed in (prints a one-time link when headless)' 'completion:print a shell completion script (bash, zsh or fish)') ;;
    "keys") items=('create:create a key and print its secret (once)' 'import:store an existing key (the seed converter'\''s sk-… keys); '\''-'\'' reads it from standard input' 'list:list keys, never their secrets (the default)' 'show:show one key by id or prefix' 'revoke:revoke a key by id or prefix (takes effect at once in solo mode)') ;;
    "principals") items=('list:list principals with their groups and policy (the default)' 'disable:refuse every token of this person, and their next sign-in' 'enable:let a disabled person sign in again') ;;
    "tables") items=('setup:create the missing tables, wait until ACTIVE, enable TTL (never changes existing tables)') ;;
    "config") items=('get:show every setting with its source, or one setting’s value (the default)' 'set:store a setting in the config file (checked like serve checks it)' 'unset:remove a setting from the config file' 'path:print the config file path') ;;
  esac
  (( ${#items} )) && _describe -t commands 'abproxy command' items
}

_abproxy_described_options() {
  local -a items
  case "$1" in
    "") items=('--version:output the version number' '--help:show help') ;;
    "serve") items=('--port:port to listen on (0 picks a free one)' '--host:address to bind (default 127.0.0.1)' '--region:AWS region for Bedrock' '--config:JSON config file' '--plain:no live dashboard on a terminal' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--help:show help') ;;
    "keys") items=('--help:show help') ;;
    "keys create") items=('--key:store this existing key (abp_… or the seed converter'\''s sk-…) instead of a new one; '\''-'\'' reads it from standard input' '--name:a label for the key' '--user:who the key is for' '--service-tier:Bedrock service tier\: default, flex, priority or reserved' '--rate-limit:requests per minute' '--tokens-per-minute:tokens per minute' '--budget-usd:spending budget in US dollars' '--concurrent-requests:most model calls in flight at once' '--web-search:may use the web search/fetch server tools (the default)' '--no-web-search:may not use the web search/fetch server tools' '--web-search-daily:most web searches per UTC day' '--models:allowed models, comma-separated globs (e.g. '\''claude-*,qwen.*'\'')' '--expires:lifetime such as 30d, 12h or 90m' '--json:print JSON' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "keys import") items=('--name:a label for the key' '--user:who the key is for' '--service-tier:Bedrock service tier\: default, flex, priority or reserved' '--rate-limit:requests per minute' '--tokens-per-minute:tokens per minute' '--budget-usd:spending budget in US dollars' '--concurrent-requests:most model calls in flight at once' '--web-search:may use the web search/fetch server tools (the default)' '--no-web-search:may not use the web search/fetch server tools' '--web-search-daily:most web searches per UTC day' '--models:allowed models, comma-separated globs (e.g. '\''claude-*,qwen.*'\'')' '--expires:lifetime such as 30d, 12h or 90m' '--json:print JSON' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "keys list") items=('--json:print JSON' '--plain:plain text even on a terminal' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "keys show") items=('--json:print JSON' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "keys revoke") items=('--json:print JSON' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "principals") items=('--help:show help') ;;
    "principals list") items=('--json:print JSON' '--plain:plain text even on a terminal' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "principals disable") items=('--json:print JSON' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "principals enable") items=('--json:print JSON' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "login") items=('--gateway:the gateway (default\: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)' '--config:JSON config file' '--json:print JSON' '--help:show help') ;;
    "token") items=('--gateway:the gateway (default\: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)' '--config:JSON config file' '--help:show help') ;;
    "logout") items=('--gateway:the gateway (default\: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)' '--config:JSON config file' '--json:print JSON' '--help:show help') ;;
    "tables") items=('--help:show help') ;;
    "tables setup") items=('--table-prefix:tables are <prefix>-keys, -usage, -limits, -signin (default abproxy)' '--region:AWS region' '--dry-run:only say what would be created' '--json:print JSON' '--config:JSON config file' '--help:show help') ;;
    "usage") items=('--key:only this key (its id, prefix or name; master\: the master key) or signed-in user (prn_… id or email)' '--session:only this Claude Code session (x-claude-code-session-id)' '--agent:only this Claude Code subagent (x-claude-code-agent-id)' '--since:start\: a duration back from now (7d, 12h) or an ISO date' '--until:end (exclusive)\: a duration back from now or an ISO date' '--by:group by key, model, day, session, agent, request' '--format:output format\: table, json, csv (default table)' '--json:print JSON (same as --format json)' '--plain:plain text even on a terminal' '--mode:storage\: solo (SQLite file, default) or team (DynamoDB tables)' '--db:solo mode\: the SQLite file (default ABPROXY_HOME/abproxy.db)' '--table-prefix:team mode\: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin' '--region:AWS region' '--config:JSON config file' '--help:show help') ;;
    "claude") items=('--model:main model\: a Claude name or a Bedrock model id (ANTHROPIC_MODEL)' '--small-model:model for quick background tasks (ANTHROPIC_SMALL_FAST_MODEL)' '--port:port of the gateway started for this session (default\: a free one)' '--gateway:a gateway you signed in to with `abproxy login` (its tokens via apiKeyHelper)' '--bedrock:Claude Code in its Bedrock mode, through the gateway'\''s Bedrock-format door' '--claude-bin:the claude executable (default\: claude on PATH)' '--region:AWS region for Bedrock' '--config:JSON config file' '--no-onboarding-fix:leave Claude Code'\''s ~/.claude.json alone (no hasCompletedOnboarding)' '--help:show help') ;;
    "models") items=('--json:print the report as JSON (stable; see README)' '--plain:plain text even on a terminal' '--all:include models that are not text-to-text or not callable in the region' '--region:AWS region for Bedrock' '--config:JSON config file' '--help:show help') ;;
    "config") items=('--help:show help') ;;
    "config get") items=('--json:print JSON' '--show-secrets:do not mask the master key, signing secret and Bedrock API key' '--help:show help') ;;
    "config set") items=('--json:print the setting as `config get KEY --json` does (secrets masked)' '--help:show help') ;;
    "config unset") items=('--json:print the setting as `config get KEY --json` does (secrets masked)' '--help:show help') ;;
    "config path") items=('--json:print {"file"\: PATH}' '--help:show help') ;;
    "doctor") items=('--json:print the checks as JSON' '--deep:also make one tiny model call (proves model access; costs a few tokens)' '--model:model for --deep (default\: the newest Claude Haiku)' '--region:AWS region for Bedrock' '--port:port the gateway should listen on' '--config:JSON config file' '--help:show help') ;;
    "admin") items=('--url:the gateway (default\: the one `abproxy serve` runs from this ABPROXY_HOME)' '--print:print the sign-in link instead of opening a browser' '--json:print the sign-in link as JSON ({url, expires_at}) instead of opening a browser' '--config:JSON config file' '--help:show help') ;;
    "completion") items=('--help:show help') ;;
  esac
  (( ${#items} )) && _describe -t options 'option' items
}

_abproxy() {
  local path="" value_of="" i w
  for ((i = 2; i < CURRENT; i++)); do
    w="${words[i]}"
    if [[ -n "$value_of" ]]; then value_of=""; continue; fi
    if [[ "$w" == "--" ]]; then _files; return; fi
    if [[ "$w" == -* ]]; then
      if [[ "$w" != *=* && " $(_abproxy_value_options "$path") " == *" $w "* ]]; then value_of="$w"; fi
      continue
    fi
    if [[ " $(_abproxy_subcommands "$path") " == *" $w "* ]]; then path="${path:+$path }$w"; fi
  done
  if [[ -n "$value_of" ]]; then
    local -a choices
    choices=(${=$(_abproxy_value_choices "${path:+$path }$value_of")})
    if (( ${#choices} )); then compadd -a choices; else _files; fi
    return
  fi
  if [[ "$PREFIX" == -* ]]; then
    _abproxy_described_options "$path"
  else
    local -a args
    args=(${=$(_abproxy_arg_choices "$path")})
    (( ${#args} )) && compadd -a args
    _abproxy_described "$path"
  fi
}

if [[ "$funcstack[1]" == "_abproxy" ]]; then
  _abproxy "$@"
else
  compdef _abproxy abproxy
fi

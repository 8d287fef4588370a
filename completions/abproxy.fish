# fish completion for abproxy. Generated from the command tree by `abproxy completion fish`;
# do not edit (run `npm run completions`).
# Install: copy to ~/.config/fish/completions/abproxy.fish

complete -c abproxy -f

# abproxy
complete -c abproxy -n '__fish_use_subcommand' -a serve -d 'run the gateway (Anthropic Messages API → AWS Bedrock)'
complete -c abproxy -n '__fish_use_subcommand' -a keys -d 'create, list, show and revoke API keys'
complete -c abproxy -n '__fish_use_subcommand' -a principals -d 'people signed in with the company IdP: list, disable, enable'
complete -c abproxy -n '__fish_use_subcommand' -a login -d 'sign in to a gateway with the company IdP (device flow); tokens kept in ABPROXY_HOME, 0600'
complete -c abproxy -n '__fish_use_subcommand' -a token -d 'print a valid access token for the gateway, refreshing it if needed (for Claude Code\'s apiKeyHelper)'
complete -c abproxy -n '__fish_use_subcommand' -a logout -d 'revoke and forget the tokens of a gateway'
complete -c abproxy -n '__fish_use_subcommand' -a tables -d 'team mode: DynamoDB tables'
complete -c abproxy -n '__fish_use_subcommand' -a usage -d 'requests, tokens and estimated cost per key, model, day, Claude Code session or agent'
complete -c abproxy -n '__fish_use_subcommand' -a claude -d 'run Claude Code on Bedrock through the gateway (reuses a running one or starts its own)'
complete -c abproxy -n '__fish_use_subcommand' -a models -d 'list the Bedrock models the gateway can call, the Claude aliases and their capabilities'
complete -c abproxy -n '__fish_use_subcommand' -a config -d 'show and edit settings (the file is ABPROXY_HOME/config.json)'
complete -c abproxy -n '__fish_use_subcommand' -a doctor -d 'check credentials, region, Bedrock access, storage, the port and the claude binary'
complete -c abproxy -n '__fish_use_subcommand' -a admin -d 'open the admin web page of the running gateway, signed in (prints a one-time link when headless)'
complete -c abproxy -n '__fish_use_subcommand' -a completion -d 'print a shell completion script (bash, zsh or fish)'
complete -c abproxy -n '__fish_use_subcommand' -l version -s v -d 'output the version number'
complete -c abproxy -n '__fish_use_subcommand' -l help -s h -d 'show help'

# abproxy serve
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l port -s p -r -F -d 'port to listen on (0 picks a free one)'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l host -r -F -d 'address to bind (default 127.0.0.1)'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l region -r -F -d 'AWS region for Bedrock'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l plain -d 'no live dashboard on a terminal'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from serve' -l help -s h -d 'show help'

# abproxy keys
complete -c abproxy -n '__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from create import list show revoke' -a create -d 'create a key and print its secret (once)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from create import list show revoke' -a import -d 'store an existing key (the seed converter\'s sk-… keys); \'-\' reads it from standard input'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from create import list show revoke' -a list -d 'list keys, never their secrets (the default)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from create import list show revoke' -a show -d 'show one key by id or prefix'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from create import list show revoke' -a revoke -d 'revoke a key by id or prefix (takes effect at once in solo mode)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and not __fish_seen_subcommand_from create import list show revoke' -l help -s h -d 'show help'

# abproxy keys create
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l key -r -F -d 'store this existing key (abp_… or the seed converter\'s sk-…) instead of a new one; \'-\' reads it from standard input'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l name -r -F -d 'a label for the key'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l user -r -F -d 'who the key is for'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l service-tier -r -F -d 'Bedrock service tier: default, flex, priority or reserved'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l rate-limit -r -F -d 'requests per minute'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l tokens-per-minute -r -F -d 'tokens per minute'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l budget-usd -r -F -d 'spending budget in US dollars'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l concurrent-requests -r -F -d 'most model calls in flight at once'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l web-search -d 'may use the web search/fetch server tools (the default)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l no-web-search -d 'may not use the web search/fetch server tools'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l web-search-daily -r -F -d 'most web searches per UTC day'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l models -r -F -d 'allowed models, comma-separated globs (e.g. \'claude-*,qwen.*\')'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l expires -r -F -d 'lifetime such as 30d, 12h or 90m'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from create' -l help -s h -d 'show help'

# abproxy keys import
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l name -r -F -d 'a label for the key'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l user -r -F -d 'who the key is for'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l service-tier -r -F -d 'Bedrock service tier: default, flex, priority or reserved'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l rate-limit -r -F -d 'requests per minute'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l tokens-per-minute -r -F -d 'tokens per minute'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l budget-usd -r -F -d 'spending budget in US dollars'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l concurrent-requests -r -F -d 'most model calls in flight at once'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l web-search -d 'may use the web search/fetch server tools (the default)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l no-web-search -d 'may not use the web search/fetch server tools'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l web-search-daily -r -F -d 'most web searches per UTC day'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l models -r -F -d 'allowed models, comma-separated globs (e.g. \'claude-*,qwen.*\')'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l expires -r -F -d 'lifetime such as 30d, 12h or 90m'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from import' -l help -s h -d 'show help'

# abproxy keys list
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l plain -d 'plain text even on a terminal'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from list' -l help -s h -d 'show help'

# abproxy keys show
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from show' -l help -s h -d 'show help'

# abproxy keys revoke
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from keys; and __fish_seen_subcommand_from revoke' -l help -s h -d 'show help'

# abproxy principals
complete -c abproxy -n '__fish_seen_subcommand_from principals; and not __fish_seen_subcommand_from list disable enable' -a list -d 'list principals with their groups and policy (the default)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and not __fish_seen_subcommand_from list disable enable' -a disable -d 'refuse every token of this person, and their next sign-in'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and not __fish_seen_subcommand_from list disable enable' -a enable -d 'let a disabled person sign in again'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and not __fish_seen_subcommand_from list disable enable' -l help -s h -d 'show help'

# abproxy principals list
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l plain -d 'plain text even on a terminal'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from list' -l help -s h -d 'show help'

# abproxy principals disable
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from disable' -l help -s h -d 'show help'

# abproxy principals enable
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from principals; and __fish_seen_subcommand_from enable' -l help -s h -d 'show help'

# abproxy login
complete -c abproxy -n '__fish_seen_subcommand_from login' -l gateway -r -F -d 'the gateway (default: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)'
complete -c abproxy -n '__fish_seen_subcommand_from login' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from login' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from login' -l help -s h -d 'show help'

# abproxy token
complete -c abproxy -n '__fish_seen_subcommand_from token' -l gateway -r -F -d 'the gateway (default: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)'
complete -c abproxy -n '__fish_seen_subcommand_from token' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from token' -l help -s h -d 'show help'

# abproxy logout
complete -c abproxy -n '__fish_seen_subcommand_from logout' -l gateway -r -F -d 'the gateway (default: ABPROXY_PUBLIC_URL, else this machine on ABPROXY_PORT)'
complete -c abproxy -n '__fish_seen_subcommand_from logout' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from logout' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from logout' -l help -s h -d 'show help'

# abproxy tables
complete -c abproxy -n '__fish_seen_subcommand_from tables; and not __fish_seen_subcommand_from setup' -a setup -d 'create the missing tables, wait until ACTIVE, enable TTL (never changes existing tables)'
complete -c abproxy -n '__fish_seen_subcommand_from tables; and not __fish_seen_subcommand_from setup' -l help -s h -d 'show help'

# abproxy tables setup
complete -c abproxy -n '__fish_seen_subcommand_from tables; and __fish_seen_subcommand_from setup' -l table-prefix -r -F -d 'tables are <prefix>-keys, -usage, -limits, -signin (default abproxy)'
complete -c abproxy -n '__fish_seen_subcommand_from tables; and __fish_seen_subcommand_from setup' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from tables; and __fish_seen_subcommand_from setup' -l dry-run -d 'only say what would be created'
complete -c abproxy -n '__fish_seen_subcommand_from tables; and __fish_seen_subcommand_from setup' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from tables; and __fish_seen_subcommand_from setup' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from tables; and __fish_seen_subcommand_from setup' -l help -s h -d 'show help'

# abproxy usage
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l key -r -F -d 'only this key (its id, prefix or name; master: the master key) or signed-in user (prn_… id or email)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l session -r -F -d 'only this Claude Code session (x-claude-code-session-id)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l agent -r -F -d 'only this Claude Code subagent (x-claude-code-agent-id)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l since -r -F -d 'start: a duration back from now (7d, 12h) or an ISO date'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l until -r -F -d 'end (exclusive): a duration back from now or an ISO date'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l by -r -F -d 'group by key, model, day, session, agent, request'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l format -r -F -d 'output format: table, json, csv (default table)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l json -d 'print JSON (same as --format json)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l plain -d 'plain text even on a terminal'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l mode -r -F -d 'storage: solo (SQLite file, default) or team (DynamoDB tables)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l db -r -F -d 'solo mode: the SQLite file (default ABPROXY_HOME/abproxy.db)'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l table-prefix -r -F -d 'team mode: DynamoDB tables are <prefix>-keys, -usage, -limits, -signin'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l region -r -F -d 'AWS region'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from usage' -l help -s h -d 'show help'

# abproxy claude
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l model -r -F -d 'main model: a Claude name or a Bedrock model id (ANTHROPIC_MODEL)'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l small-model -r -F -d 'model for quick background tasks (ANTHROPIC_SMALL_FAST_MODEL)'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l port -r -F -d 'port of the gateway started for this session (default: a free one)'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l gateway -r -F -d 'a gateway you signed in to with `abproxy login` (its tokens via apiKeyHelper)'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l bedrock -d 'Claude Code in its Bedrock mode, through the gateway\'s Bedrock-format door'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l claude-bin -r -F -d 'the claude executable (default: claude on PATH)'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l region -r -F -d 'AWS region for Bedrock'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l no-onboarding-fix -d 'leave Claude Code\'s ~/.claude.json alone (no hasCompletedOnboarding)'
complete -c abproxy -n '__fish_seen_subcommand_from claude' -l help -s h -d 'show help'

# abproxy models
complete -c abproxy -n '__fish_seen_subcommand_from models' -l json -d 'print the report as JSON (stable; see README)'
complete -c abproxy -n '__fish_seen_subcommand_from models' -l plain -d 'plain text even on a terminal'
complete -c abproxy -n '__fish_seen_subcommand_from models' -l all -d 'include models that are not text-to-text or not callable in the region'
complete -c abproxy -n '__fish_seen_subcommand_from models' -l region -r -F -d 'AWS region for Bedrock'
complete -c abproxy -n '__fish_seen_subcommand_from models' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from models' -l help -s h -d 'show help'

# abproxy config
complete -c abproxy -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from get set unset path' -a get -d 'show every setting with its source, or one setting’s value (the default)'
complete -c abproxy -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from get set unset path' -a set -d 'store a setting in the config file (checked like serve checks it)'
complete -c abproxy -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from get set unset path' -a unset -d 'remove a setting from the config file'
complete -c abproxy -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from get set unset path' -a path -d 'print the config file path'
complete -c abproxy -n '__fish_seen_subcommand_from config; and not __fish_seen_subcommand_from get set unset path' -l help -s h -d 'show help'

# abproxy config get
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from get' -l json -d 'print JSON'
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from get' -l show-secrets -d 'do not mask the master key, signing secret and Bedrock API key'
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from get' -l help -s h -d 'show help'

# abproxy config set
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from set' -l json -d 'print the setting as `config get KEY --json` does (secrets masked)'
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from set' -l help -s h -d 'show help'

# abproxy config unset
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from unset' -l json -d 'print the setting as `config get KEY --json` does (secrets masked)'
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from unset' -l help -s h -d 'show help'

# abproxy config path
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from path' -l json -d 'print {"file": PATH}'
complete -c abproxy -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from path' -l help -s h -d 'show help'

# abproxy doctor
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l json -d 'print the checks as JSON'
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l deep -d 'also make one tiny model call (proves model access; costs a few tokens)'
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l model -r -F -d 'model for --deep (default: the newest Claude Haiku)'
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l region -r -F -d 'AWS region for Bedrock'
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l port -s p -r -F -d 'port the gateway should listen on'
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from doctor' -l help -s h -d 'show help'

# abproxy admin
complete -c abproxy -n '__fish_seen_subcommand_from admin' -l url -r -F -d 'the gateway (default: the one `abproxy serve` runs from this ABPROXY_HOME)'
complete -c abproxy -n '__fish_seen_subcommand_from admin' -l print -d 'print the sign-in link instead of opening a browser'
complete -c abproxy -n '__fish_seen_subcommand_from admin' -l json -d 'print the sign-in link as JSON ({url, expires_at}) instead of opening a browser'
complete -c abproxy -n '__fish_seen_subcommand_from admin' -l config -s c -r -F -d 'JSON config file'
complete -c abproxy -n '__fish_seen_subcommand_from admin' -l help -s h -d 'show help'

# abproxy completion
complete -c abproxy -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'
complete -c abproxy -n '__fish_seen_subcommand_from completion' -l help -s h -d 'show help'

/** The middleware chain and route table of the gateway. */

import { auth } from './auth.ts';
import { compose } from './compose.ts';
import type { Ctx, Middleware } from './context.ts';
import { countTokensHandler } from './count-tokens.ts';
import type { AppDeps } from './deps.ts';
import { errorHandler } from './error-handler.ts';
import { healthHandler, readyHandler } from './health.ts';
import { hostGuard } from './host-guard.ts';
import { messagesHandler } from './messages.ts';
import { getModelHandler, listModelsHandler } from './models.ts';
import { requestId } from './request-id.ts';
import { type Route, router } from './router.ts';

export interface AppOptions {
  /** Whether the master key is checked (see authRequired in config). */
  requireKey: boolean;
  /** Loopback binds get the DNS-rebinding guard. */
  loopback: boolean;
  isDraining: () => boolean;
}

const PUBLIC_PATHS = new Set(['/health', '/ready']);

export function createApp(deps: AppDeps, options: AppOptions): (ctx: Ctx) => Promise<void> {
  const routes: Route[] = [
    { method: 'POST', path: '/v1/messages', handler: messagesHandler(deps) },
    { method: 'POST', path: '/v1/messages/count_tokens', handler: countTokensHandler(deps) },
    { method: 'GET', path: '/v1/models', handler: listModelsHandler(deps) },
    { method: 'GET', path: '/v1/models/:id', handler: getModelHandler(deps) },
    { method: 'GET', path: '/health', handler: healthHandler() },
    { method: 'GET', path: '/ready', handler: readyHandler(options.isDraining) },
  ];
  const chain: Middleware[] = [requestId(), errorHandler()];
  if (options.loopback) chain.push(hostGuard());
  chain.push(
    auth({
      masterKey: options.requireKey ? deps.config.masterApiKey : undefined,
      header: deps.config.apiKeyHeader,
      publicPaths: PUBLIC_PATHS,
    }),
    router(routes),
  );
  return compose(chain);
}

/** The middleware chain and route table of the gateway. */

import type { GuessThrottle } from '../auth/guess-throttle.ts';
import type { KeyVerifier } from '../auth/verifier.ts';
import { SIGNIN_BROWSER_PATHS, SIGNIN_PUBLIC_PATHS } from '../signin/routes.ts';
import type { SignIn } from '../signin/setup.ts';
import type { Telemetry } from '../telemetry/tracing.ts';
import {
  getFoundationModelHandler,
  getInferenceProfileHandler,
  listFoundationModelsHandler,
  listInferenceProfilesHandler,
} from './bedrock/control-routes.ts';
import { bedrockErrors } from './bedrock/errors.ts';
import { isDoorPath } from './bedrock/paths.ts';
import { bedrockRuntimeHandler, bedrockRuntimeRoute } from './bedrock/runtime-route.ts';
import { sigv4Guard } from './bedrock/sigv4-guard.ts';
import type { AppDeps } from './deps.ts';
import { compose } from './http/compose.ts';
import type { Ctx, Middleware } from './http/context.ts';
import { type Route, router, routeTakes } from './http/router.ts';
import { messagesHandler } from './messages/messages.ts';
import type { Accounting } from './middleware/accounting.ts';
import { type AuthPolicy, auth } from './middleware/auth.ts';
import { errorHandler } from './middleware/error-handler.ts';
import { hostGuard } from './middleware/host-guard.ts';
import { jsonContentType } from './middleware/json-content-type.ts';
import { metering } from './middleware/metering.ts';
import { originGuard } from './middleware/origin-guard.ts';
import { requestId } from './middleware/request-id.ts';
import { countTokensHandler } from './routes/count-tokens.ts';
import { healthHandler, readyHandler } from './routes/health.ts';
import { metricsArePublic, metricsHandler } from './routes/metrics-route.ts';
import { getModelHandler, listModelsHandler } from './routes/models.ts';

export interface AppOptions {
  /** Whether every call needs a key (see authRequired in config). */
  requireKey: boolean;
  /** Checks presented keys: the master key and the store's keys. */
  verifier: KeyVerifier;
  /** Loopback binds get the DNS-rebinding guard. */
  loopback: boolean;
  isDraining: () => boolean;
  /** Limits, budgets, usage records and metrics (absent in handler unit tests). */
  accounting?: Pick<Accounting, 'metering' | 'metrics'>;
  /** Lets /health prove this is the gateway a state file names (see health.ts). */
  instanceSecret?: string;
  /**
   * The admin page and its API (/admin, /admin/api/*): one route group, before key auth (it signs in
   * with its own session cookie). Absent in handler unit tests.
   */
  admin?: Middleware;
  /** Team sign-in with the company IdP (issue 16), when configured. */
  signIn?: Pick<SignIn, 'apiRoutes' | 'browserRoutes'> | undefined;
  /** Wrong secrets per address, shared with the admin sign-in form (see auth.ts). */
  guesses?: GuessThrottle;
  /** OpenTelemetry's middlewares, only when tracing is on (absent: not a step of the chain). */
  tracing?: Pick<Telemetry, 'request' | 'authStart' | 'authEnd'> | undefined;
}

const PUBLIC_PATHS = new Set(['/health', '/ready']);

function authPolicy(requireKey: boolean, requireApiKey: boolean | undefined, signIn: boolean): AuthPolicy {
  if (requireKey || (signIn && requireApiKey !== false)) return 'required';
  return requireApiKey === false ? 'open' : 'open-until-keys';
}

export function createApp(deps: AppDeps, options: AppOptions): (ctx: Ctx) => Promise<void> {
  const routes: Route[] = [
    { method: 'POST', path: '/v1/messages', handler: messagesHandler(deps) },
    { method: 'POST', path: '/v1/messages/count_tokens', handler: countTokensHandler(deps) },
    { method: 'GET', path: '/v1/models', handler: listModelsHandler(deps) },
    { method: 'GET', path: '/v1/models/:id', handler: getModelHandler(deps) },
    // The Bedrock-format door's control-plane reads (its runtime calls: bedrockRuntimeRoute below).
    { method: 'GET', path: '/foundation-models', handler: listFoundationModelsHandler(deps) },
    { method: 'GET', path: '/foundation-models/:id', handler: getFoundationModelHandler(deps) },
    { method: 'GET', path: '/inference-profiles', handler: listInferenceProfilesHandler(deps) },
    { method: 'GET', path: '/inference-profiles/:id', handler: getInferenceProfileHandler(deps) },
    { method: 'GET', path: '/health', handler: healthHandler(options.instanceSecret) },
    { method: 'GET', path: '/ready', handler: readyHandler(options.isDraining) },
  ];
  const publicPaths = new Set(PUBLIC_PATHS);
  const { accounting, signIn } = options;
  const signInPaths = new Set(
    signIn ? [...signIn.apiRoutes, ...signIn.browserRoutes].map((r) => r.path) : [],
  );
  if (signIn) {
    // One group each: the browser routes are the ones a browser-origin guard must let through.
    routes.push(...signIn.apiRoutes, ...signIn.browserRoutes);
    for (const path of SIGNIN_PUBLIC_PATHS) publicPaths.add(path);
  }
  if (accounting) {
    routes.push({ method: 'GET', path: '/metrics', handler: metricsHandler(accounting.metrics) });
    if (metricsArePublic(deps.config.metricsAuth, options.loopback)) publicPaths.add('/metrics');
  }
  const { tracing } = options;
  const chain: Middleware[] = [requestId(), errorHandler(), bedrockErrors()];
  if (tracing) chain.push(tracing.request);
  chain.push(hostGuard({ loopback: options.loopback }));
  if (options.admin) chain.push(options.admin);
  chain.push(
    originGuard({
      allowedOrigins: deps.config.allowedOrigins,
      apiKeyHeader: deps.config.apiKeyHeader,
      browserPages: signIn ? SIGNIN_BROWSER_PATHS : [],
    }),
    // Before auth: an open loopback gateway must still refuse (not forward) a SigV4-signed door call.
    sigv4Guard({ header: deps.config.apiKeyHeader }),
    ...(tracing ? [tracing.authStart] : []),
    auth({
      verifier: options.verifier,
      policy: authPolicy(options.requireKey, deps.config.requireApiKey, signIn !== undefined),
      header: deps.config.apiKeyHeader,
      publicPaths,
      ...(options.guesses
        ? { guesses: { throttle: options.guesses, trustedProxies: deps.config.trustedProxies } }
        : {}),
    }),
    // After auth, as Anthropic answers: a caller without a key learns that first.
    // The door's InvokeModel bodies may be any model's format; its handler refuses form types itself.
    // A POST no route takes goes on to the router's 404 whatever its type: a Files API upload (multipart)
    // was told to send JSON, to a route that does not exist.
    jsonContentType({
      formPaths: signInPaths,
      exempt: (path) => isDoorPath(path) || !routeTakes(routes, 'POST', path),
    }),
  );
  if (accounting) chain.push(metering(accounting.metering));
  if (tracing) chain.push(tracing.authEnd);
  // The Bedrock-format door (issue 15): POST /model/{modelId}/{operation}, matched on the raw path (an
  // encoded ARN, a bad escape) before the router decodes it. Errors there are Bedrock's (bedrockErrors).
  chain.push(bedrockRuntimeRoute(bedrockRuntimeHandler(deps)), router(routes));
  return compose(chain);
}

/**
 * How long a stopping gateway lets in-flight requests (long model streams) finish. One value for both
 * sides of a drain: `serve`'s default, and the CDK stack's target-group deregistration delay, so the load
 * balancer never cuts a stream the gateway would still have waited for (and the other way round).
 * AWS's own default deregistration delay; most Claude Code turns end well within it.
 */
export const DEFAULT_DRAIN_TIMEOUT_MS = 300_000;

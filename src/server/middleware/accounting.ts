/**
 * Builds what the metering middleware needs from config and the store: metrics, the usage spool,
 * rate limits (local in solo mode, leased from the store's counters in team mode) and budgets.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { type Config, ConfigError } from '../../config/config.ts';
import { BudgetGuard } from '../../limits/budget.ts';
import { InFlightLimits } from '../../limits/concurrency.ts';
import { counterLeases } from '../../limits/counter-leases.ts';
import { LocalLimiter } from '../../limits/local.ts';
import { RateLimits } from '../../limits/rate-limits.ts';
import { SharedLimiter } from '../../limits/shared.ts';
import { SharedInFlight } from '../../limits/shared-in-flight.ts';
import { createMetrics, type GatewayMetrics } from '../../metrics/metrics.ts';
import { MASTER_KEY_ID, type Store } from '../../store/types.ts';
import { mergePrices } from '../../usage/prices.ts';
import { UsageSpool } from '../../usage/spool.ts';
import { spoolDir } from '../../usage/spool-dir.ts';
import type { Ctx } from '../http/context.ts';
import type { Logger } from '../http/logger.ts';
import type { Caller, MeteringDeps } from './metering.ts';
import { outageWarning } from './outage-warning.ts';
import { refusalLog } from './refusal-log.ts';

export interface Accounting {
  metrics: GatewayMetrics;
  metering: MeteringDeps;
  spool: UsageSpool | undefined;
  /** Last drain of the spool and budget charges (a drain hook: runs before the store closes). */
  close(): Promise<void>;
}

/** The caller of a request: its stored key, else the master key or an open loopback gateway. */
export function callerOf(ctx: Ctx): Caller {
  if (ctx.key) return { keyId: ctx.key.id, limits: ctx.key.limits };
  return { keyId: MASTER_KEY_ID, limits: {} };
}

/** undici publishes it synchronously just before it writes a request's first byte. */
const UNDICI_SEND_HEADERS = 'undici:client:sendHeaders';

export function createAccounting(config: Config, store: Store, log: Logger): Accounting {
  let prices: ReturnType<typeof mergePrices>;
  try {
    prices = mergePrices(config.prices);
  } catch (err) {
    throw new ConfigError(`ABPROXY_PRICES: ${(err as Error).message}`);
  }
  let spool: UsageSpool | undefined;
  let beforeSend: (() => void) | undefined;
  const metrics = createMetrics({ processMetrics: true, spoolDepth: () => spool?.depth() ?? 0 });
  if (config.usageRecording) {
    const warnUnreachable = outageWarning(log, 'usage store unreachable; records kept in the local spool');
    // Every Bedrock call of the HTTP/1.1 (undici) transport passes the sendHeaders hook: the `open`
    // lines of the calls begun in a loop turn are written there, in one write(2) instead of one each.
    const atSend = config.upstreamHttp === '1.1';
    spool = new UsageSpool({
      dir: spoolDir(config),
      openLinesAt: atSend ? 'send' : 'begin',
      sink: store,
      drainIntervalMs: config.usageDrainMs,
      retryMaxMs: config.usageRetryMaxMs,
      onDrainError: (err, depth) => {
        metrics.usageStoreErrors.inc();
        warnUnreachable(err, { spooled: depth });
      },
      onDeadLetter: (record, err, file) => {
        metrics.usageDeadLettered.inc();
        // Ids only: the refused record may be huge (that is often why it was refused).
        log.error(
          { err: err.message, usageId: record.id, requestId: record.requestId, file },
          'usage store refused a record for good; set aside in the dead-letter file',
        );
      },
    });
    if (atSend) {
      const owned = spool;
      beforeSend = () => {
        try {
          owned.beforeSend();
        } catch (err) {
          log.error({ err }, 'usage records could not be spooled');
        }
      };
      subscribe(UNDICI_SEND_HEADERS, beforeSend);
    }
  }
  const limiter =
    store.mode === 'team'
      ? new SharedLimiter({
          store: counterLeases(store),
          onError: outageWarning(log, 'shared rate limit counter failed; limiting per instance'),
        })
      : new LocalLimiter();
  const rateLimits = new RateLimits({
    limiter,
    seed: config.rateLimitEnabled
      ? { requests: config.rateLimitRequests, windowMs: config.rateLimitWindowSec * 1000 }
      : undefined,
  });
  // Keys' caps on calls in flight: one count for the team, or this process's.
  const inFlight =
    store.mode === 'team'
      ? new SharedInFlight({
          store,
          onError: outageWarning(log, 'shared concurrency counter failed; counting per instance'),
        })
      : new InFlightLimits();
  const budget = new BudgetGuard({
    store,
    // Solo: one process, its counter is exact; team: re-read what other instances charged.
    refreshMs: store.mode === 'team' ? 2_000 : 60_000,
    onError: outageWarning(log, 'budget counter failed'),
  });
  return {
    metrics,
    spool,
    metering: {
      metrics,
      prices,
      rateLimits,
      inFlight,
      budget,
      spool,
      defaultTier: config.defaultServiceTier,
      webSearchCostUsd: config.webSearchCostUsd,
      caller: callerOf,
      onRefused: refusalLog(log),
    },
    async close() {
      if (inFlight instanceof SharedInFlight) inFlight.close();
      await budget.close();
      if (beforeSend) unsubscribe(UNDICI_SEND_HEADERS, beforeSend);
      await spool?.close();
      // Said at the end: where the disk goes with the process (a container, an ECS task), this line is
      // all that is left of these records; elsewhere the next gateway started on this home sends them.
      const left = spool?.depth() ?? 0;
      if (left > 0) {
        log.warn(
          { spooled: left, dir: spoolDir(config) },
          'usage records not stored (the store did not take them); kept in the spool for the next gateway started on this home',
        );
      }
    },
  };
}

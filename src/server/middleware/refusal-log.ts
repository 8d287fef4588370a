/**
 * Requests the gateway refused itself by a key's limits or budget. They reached no Bedrock, so they
 * leave no usage record (in team mode a flood of them would otherwise be a flood of DynamoDB writes);
 * they are counted in /metrics by reason (`abproxy_rate_limited_total{limit}`,
 * `abproxy_budget_refused_total`), and the log says so at most once a minute per reason, naming the key
 * last refused and how many were refused since the last line — never a line per refusal.
 */

import type { LimitName } from '../../limits/rate-limits.ts';
import { capacityWarning } from '../../metrics/capacity-warning.ts';
import type { Logger } from '../http/logger.ts';

export type RefusalReason = LimitName | 'budget';

export function refusalLog(
  log: Pick<Logger, 'warn'>,
  now?: () => number,
): (reason: RefusalReason, keyId: string) => void {
  const byReason = new Map<RefusalReason, (fields: { reason: RefusalReason; keyId: string }) => void>();
  return (reason, keyId) => {
    let report = byReason.get(reason);
    if (!report) {
      report = capacityWarning({
        log,
        // Counted where the refusal is made (its own metric, by reason).
        counter: () => undefined,
        message: `requests refused by ${reason === 'budget' ? "their key's monthly budget" : `a ${reason} limit of their key`} (no usage record: nothing reached Bedrock)`,
        sinceLastLog: 'refusedSinceLastLog',
        ...(now ? { now } : {}),
      });
      byReason.set(reason, report);
    }
    report({ reason, keyId });
  };
}

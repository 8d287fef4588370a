/** Usage records are the store's type; the spool only needs the write side of the store. */
import type { Store, UsageRecord } from '../store/types.ts';

export type { UsageRecord };

/** Where drained usage records go (the Store). Writes are idempotent by record id. */
export type UsageSink = Pick<Store, 'recordUsage'>;

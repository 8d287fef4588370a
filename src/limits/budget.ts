/**
 * Monthly budgets (UTC calendar month) per key. A request is refused once the key's spend reaches its
 * budget, or once its worst case (hold) would pass what its spend and the holds of its calls in flight
 * leave; each request is charged its real cost after it ends, when its hold is given back. Holds are
 * this instance's own (no store write per request). Spend lives in a store counter so every
 * instance sees it; an instance re-reads it at most every `refreshMs` and batches its own charges
 * every `flushMs`, so a team can overshoot a budget by what its instances spend in about that time
 * (plus requests already running): a budget is a brake, the usage records are the bill.
 */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../anthropic/errors.ts';
import type { Store } from '../store/types.ts';

/** `2026-05` for a time in May 2026, UTC. */
export function budgetMonth(now: number): string {
  // Asked on every metered request: formatting a date each time showed in profiles; a month lasts.
  if (now >= lastMonth.from && now < lastMonth.to) return lastMonth.name;
  const date = new Date(now);
  const from = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  lastMonth = { from, to: nextMonthStart(now), name: date.toISOString().slice(0, 7) };
  return lastMonth.name;
}
let lastMonth = { from: 0, to: 0, name: '' };

/** Epoch ms of the first instant of the next UTC month. */
export function nextMonthStart(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** Spend is counted in micro-dollars: integer adds stay exact in both stores. */
const MICRO = 1_000_000;

interface Spend {
  month: string;
  /** Micro-USD the store reported. */
  stored: number;
  readAt: number;
  /** Charged here, not yet sent. */
  unsent: number;
  /**
   * Sent, not yet confirmed by the store. A send that failed is sent again as it was, with its id, before
   * anything else: one that timed out may have been counted, and must not be counted twice.
   */
  batch: { id: string; amount: number } | undefined;
  sending: boolean;
  refresh: Promise<void> | undefined;
  /** Micro-USD held by this instance's calls in flight: each one's worst case, until it ends. */
  held: number;
}

/** What one call holds of its key's budget until it ends (BudgetGuard.release). */
export interface BudgetHold {
  readonly spend: Spend;
  amount: number;
}

export interface BudgetOptions {
  store: Pick<Store, 'addToCounter'>;
  refreshMs?: number;
  flushMs?: number;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** `$1.10`, `$0.50`; under ten cents two significant digits (`$0.094`, `$0.0001`), so a small budget is not "$0.00". */
function dollars(usd: number): string {
  return `$${usd >= 0.1 || usd === 0 ? usd.toFixed(2) : Number(usd.toPrecision(2))}`;
}

function budgetExhausted(keyId: string, budgetUsd: number, spentUsd: number, now: number): ApiError {
  const reset = new Date(nextMonthStart(now)).toISOString();
  return new ApiError(
    'billing_error',
    `This API key (${keyId}) has used its monthly budget: ${dollars(spentUsd)} of ${dollars(budgetUsd)} in ${budgetMonth(now)} (UTC). It resets at ${reset}; ask the gateway admin to raise --budget-usd.`,
    // 402 is outside every client's retry set, and x-should-retry tells the Anthropic SDKs so outright.
    { headers: { 'x-should-retry': 'false', 'x-abproxy-budget-reset': reset } },
  );
}

/**
 * A call whose worst case does not fit. Refused, not clamped to what is left: a smaller max_tokens
 * than asked would cut the answer short where the client does not expect it (and can make a thinking
 * budget invalid); the client can lower max_tokens itself, and the message says what is left.
 */
function worstCaseRefused(
  keyId: string,
  budgetUsd: number,
  spentUsd: number,
  heldUsd: number,
  worstUsd: number,
  now: number,
): ApiError {
  const reset = new Date(nextMonthStart(now)).toISOString();
  const left = Math.max(0, budgetUsd - spentUsd - heldUsd);
  const inFlight = heldUsd > 0 ? `, ${dollars(heldUsd)} held by its calls in flight` : '';
  return new ApiError(
    'billing_error',
    `This call could cost up to ${dollars(worstUsd)} (its prompt and max_tokens at the model's prices), more than is left of the monthly budget of this API key (${keyId}): ${dollars(left)} of ${dollars(budgetUsd)} in ${budgetMonth(now)} (UTC; ${dollars(spentUsd)} spent${inFlight}). Lower max_tokens, or ask the gateway admin to raise --budget-usd; it resets at ${reset}.`,
    { headers: { 'x-should-retry': 'false', 'x-abproxy-budget-reset': reset } },
  );
}

export class BudgetGuard {
  readonly #store: BudgetOptions['store'];
  readonly #refreshMs: number;
  readonly #onError: BudgetOptions['onError'];
  readonly #now: () => number;
  readonly #spend = new Map<string, Spend>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: BudgetOptions) {
    this.#store = options.store;
    this.#refreshMs = options.refreshMs ?? 2000;
    this.#onError = options.onError;
    this.#now = options.now ?? Date.now;
    this.#timer = setInterval(() => void this.flush(), options.flushMs ?? 1000);
    this.#timer.unref();
  }

  /** Throws the 402 when the key has spent its budget this month. */
  async check(keyId: string, budgetUsd: number): Promise<void> {
    const now = this.#now();
    const spend = this.#entry(keyId, now);
    if (spend.readAt === 0 || now - spend.readAt > this.#refreshMs)
      spend.refresh ??= this.#read(keyId, spend);
    // The first checks of a key wait for (one shared) read; later refreshes run in the background.
    if (spend.readAt === 0) await spend.refresh;
    const spent = (spend.stored + (spend.batch?.amount ?? 0) + spend.unsent) / MICRO;
    if (spent >= budgetUsd) throw budgetExhausted(keyId, budgetUsd, spent, now);
  }

  /**
   * Holds a call's worst case against what is left of the key's budget, beside its calls in flight;
   * throws the 402 when they would pass it. `previous` (a web tools loop's next round) is replaced.
   * Local state only: check() read the store before.
   */
  hold(keyId: string, budgetUsd: number, worstUsd: number, previous?: BudgetHold): BudgetHold {
    const now = this.#now();
    const spend = this.#entry(keyId, now);
    const amount = Math.round(worstUsd * MICRO);
    const mine = previous?.spend === spend ? previous.amount : 0;
    const spent = spend.stored + (spend.batch?.amount ?? 0) + spend.unsent;
    const others = spend.held - mine;
    if (spent >= budgetUsd * MICRO) throw budgetExhausted(keyId, budgetUsd, spent / MICRO, now);
    if (spent + others + amount > budgetUsd * MICRO)
      throw worstCaseRefused(keyId, budgetUsd, spent / MICRO, others / MICRO, amount / MICRO, now);
    if (previous) this.release(previous);
    spend.held += amount;
    return { spend, amount };
  }

  /** Gives a call's hold back (once: a second release gives nothing). */
  release(hold: BudgetHold): void {
    hold.spend.held -= hold.amount;
    hold.amount = 0;
  }

  charge(keyId: string, usd: number): void {
    if (!(usd > 0)) return;
    this.#entry(keyId, this.#now()).unsent += Math.round(usd * MICRO);
  }

  /** Sends the batched charges (also on a timer). */
  async flush(): Promise<void> {
    const sends: Promise<void>[] = [];
    for (const [keyId, spend] of this.#spend) {
      if (spend.sending || (spend.batch === undefined && spend.unsent === 0)) continue;
      if (spend.batch === undefined) {
        spend.batch = { id: randomUUID(), amount: spend.unsent };
        spend.unsent = 0;
      }
      const batch = spend.batch;
      spend.sending = true;
      sends.push(
        this.#store
          .addToCounter(this.#counter(keyId, spend.month), batch.amount, this.#expiry(spend.month), batch.id)
          .then((total) => {
            spend.batch = undefined;
            spend.stored = total;
            spend.readAt = this.#now();
          })
          .catch((err) => {
            this.#onError?.(err);
          })
          .finally(() => {
            spend.sending = false;
          }),
      );
    }
    await Promise.all(sends);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #entry(keyId: string, now: number): Spend {
    const month = budgetMonth(now);
    let spend = this.#spend.get(keyId);
    if (!spend || spend.month !== month) {
      // A new month starts from zero; unsent charges of the old month are sent with it.
      if (spend) {
        const { month: old, unsent, batch } = spend;
        const rest: Array<[number, string | undefined]> = [
          [batch?.amount ?? 0, batch?.id],
          [unsent, undefined],
        ];
        for (const [amount, id] of rest) {
          if (amount === 0) continue;
          this.#store
            .addToCounter(this.#counter(keyId, old), amount, this.#expiry(old), id)
            .catch((err) => this.#onError?.(err));
        }
      }
      spend = {
        month,
        stored: 0,
        readAt: 0,
        unsent: 0,
        batch: undefined,
        sending: false,
        refresh: undefined,
        held: 0,
      };
      this.#spend.set(keyId, spend);
    }
    return spend;
  }

  #counter(keyId: string, month: string): string {
    return `budget:${keyId}:${month}`;
  }

  #expiry(month: string): number {
    // Keep a month's spend for a while after it ends (reports), then let the store drop it.
    return nextMonthStart(Date.parse(`${month}-01T00:00:00Z`)) + 40 * 86_400_000;
  }

  async #read(keyId: string, spend: Spend): Promise<void> {
    try {
      // Adding zero reads the counter through the same atomic path.
      spend.stored = await this.#store.addToCounter(
        this.#counter(keyId, spend.month),
        0,
        this.#expiry(spend.month),
      );
      spend.readAt = this.#now();
    } catch (err) {
      // Store down: judge by what we know locally rather than refuse or admit everyone blindly.
      spend.readAt = this.#now();
      this.#onError?.(err);
    } finally {
      spend.refresh = undefined;
    }
  }
}

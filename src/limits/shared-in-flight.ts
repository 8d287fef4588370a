/**
 * A key's cap on calls in flight, shared by every team instance through one counter per key in the
 * store (`<prefix>-limits`).
 *
 * An instance takes a slot from the team by adding 1 to the key's counter (or as many as calls wait
 * here), only if the total stays within the cap: a refusal is one conditional write that changes nothing,
 * so a client looping on 429s costs one write per try, with nothing to take back. A slot freed by a call
 * ending stays with the instance for a moment (a burst reuses it without a store call) and then goes back.
 *
 * A process that dies holding slots cannot give them back, so counters are per epoch (30 s): at each new
 * epoch every instance writes what its calls in flight still hold into the new epoch's counter, and
 * a dead instance's slots end with the old one. So a crash holds a key's slots for at most one epoch.
 * The cost of epochs: instances whose clocks differ admit against slightly different counters at the
 * turn, so a team may briefly pass the cap by what other instances hold then.
 * If the store fails, the instance keeps counting its own calls at the full cap rather than refuse everyone.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../store/types.ts';
import { concurrencyRefusal, type InFlightCounter } from './concurrency.ts';

export const EPOCH_MS = 30_000;
/** How long a freed slot stays with this instance before it goes back to the team. */
const LINGER_MS = 2_000;
/** After a store call fails, the store is not asked again for this long (each call would wait for its timeout). */
const STORE_DOWN_MS = 5_000;
/** The one wait before a refusal, for a slot another instance is giving back. */
const LOOK_AGAIN_MS = 100;

/**
 * The store's atomic counter with expiry: Store.addToCounter (moves, give-backs) and addToCounterUpTo
 * (takes). Each call has its op id: one that DynamoDB made but answered too late is not made again by
 * the SDK's retry (a take counted twice held a slot nobody had, a key of one slot refused until the epoch's end).
 */
export type SlotCounterStore = Pick<Store, 'addToCounter' | 'addToCounterUpTo'>;

export interface SharedInFlightOptions {
  store: SlotCounterStore;
  onError?: (err: unknown) => void;
  now?: () => number;
}

interface KeySlots {
  /** Start (epoch ms) of the epoch whose counter holds this instance's slots. */
  epoch: number;
  /** Calls of the key running here now. */
  inFlight: number;
  /** Slots this instance holds in the epoch's counter (≥ inFlight, except calls admitted while the store was down). */
  held: number;
  pending: Promise<void> | undefined;
  /** Calls waiting for `pending`. */
  waiting: number;
  /** The last store call found the team's slots all taken. */
  refused: boolean;
  /** After the last store call the team's slots were all taken (a freed one goes back at once). */
  full: boolean;
  linger: NodeJS.Timeout | undefined;
}

const counterName = (keyId: string, epoch: number) => `conc:${keyId}:${epoch}`;
/** Counters outlive their epoch by one more, then DynamoDB's TTL removes them. */
const expiresAt = (epoch: number) => epoch + 2 * EPOCH_MS;

export class SharedInFlight implements InFlightCounter {
  readonly #store: SlotCounterStore;
  readonly #onError: SharedInFlightOptions['onError'];
  readonly #now: () => number;
  readonly #keys = new Map<string, KeySlots>();
  #epochTimer: NodeJS.Timeout | undefined;
  #storeDownUntil = 0;

  constructor(options: SharedInFlightOptions) {
    this.#store = options.store;
    this.#onError = options.onError;
    this.#now = options.now ?? Date.now;
  }

  async enter(keyId: string, limit: number): Promise<() => void> {
    let slots = this.#keys.get(keyId);
    if (!slots) {
      slots = {
        epoch: this.#epoch(),
        inFlight: 0,
        held: 0,
        pending: undefined,
        waiting: 0,
        refused: false,
        full: false,
        linger: undefined,
      };
      this.#keys.set(keyId, slots);
    }
    let lookedAgain = false;
    for (;;) {
      const epoch = this.#epoch();
      if (slots.epoch !== epoch) this.#moveTo(keyId, slots, epoch);
      if (slots.inFlight < slots.held) return this.#admit(keyId, slots);
      // Store down (a call failed a moment ago): this instance's own calls at the full cap, without a
      // store call each (each would wait for its timeout); what they hold is written at the next epoch.
      if (this.#storeDownUntil > this.#now()) {
        if (slots.inFlight >= limit) throw concurrencyRefusal(limit);
        return this.#admit(keyId, slots);
      }
      // One store call per key at a time; calls arriving meanwhile wait for it and look again (the
      // next call asks for all of them at once).
      if (slots.pending) {
        slots.waiting++;
        await slots.pending;
        slots.waiting--;
        // The team was full a moment ago: the waiters are refused with that call, not asked one by one.
        if (slots.refused && slots.inFlight >= slots.held) throw concurrencyRefusal(limit);
        continue;
      }
      let outcome: 'granted' | 'refused' | 'failed' = 'refused';
      slots.pending = this.#takeSlots(keyId, slots.epoch, Math.min(1 + slots.waiting, limit), limit)
        .then(({ granted, full }) => {
          // Slots taken in an epoch that ended meanwhile live in a dead counter: ask again.
          if (slots.epoch === epoch) slots.held += granted;
          outcome = granted > 0 ? 'granted' : 'refused';
          slots.refused = granted === 0;
          slots.full = full;
        })
        .catch((err) => {
          outcome = 'failed';
          slots.refused = false;
          this.#storeDownUntil = this.#now() + STORE_DOWN_MS;
          this.#onError?.(err);
        })
        .finally(() => {
          slots.pending = undefined;
        });
      await slots.pending;
      if (outcome === 'refused') {
        // Another instance may be giving a slot back this very moment (a client's next call often lands
        // elsewhere as soon as its last one ended): one more look, a moment later, before the 429.
        if (!lookedAgain) {
          lookedAgain = true;
          await new Promise((resolve) => setTimeout(resolve, LOOK_AGAIN_MS));
          continue;
        }
        this.#forgetIfIdle(keyId, slots);
        throw concurrencyRefusal(limit);
      }
    }
  }

  /** Stops the epoch timer and gives back the spare slots (shutdown). */
  close(): void {
    clearTimeout(this.#epochTimer);
    this.#epochTimer = undefined;
    for (const [keyId, slots] of this.#keys) {
      clearTimeout(slots.linger);
      this.#giveBackSpare(keyId, slots);
    }
  }

  #epoch(): number {
    const now = this.#now();
    return now - (now % EPOCH_MS);
  }

  /**
   * Takes up to `want` slots from the key's counter, never past the cap: when not all of them fit, the
   * refusal tells the total and what fits is asked for instead. `full`: the team's slots are all taken now.
   */
  async #takeSlots(
    keyId: string,
    epoch: number,
    want: number,
    limit: number,
  ): Promise<{ granted: number; full: boolean }> {
    const name = counterName(keyId, epoch);
    // Each refusal leaves less room than was asked for, so this ends within `want` store calls.
    for (let ask = want; ask > 0; ) {
      const { added, total } = await this.#store.addToCounterUpTo(
        name,
        ask,
        limit,
        expiresAt(epoch),
        randomUUID(),
      );
      if (added) return { granted: ask, full: total >= limit };
      ask = Math.min(ask - 1, limit - total);
    }
    return { granted: 0, full: true };
  }

  #admit(keyId: string, slots: KeySlots): () => void {
    slots.inFlight++;
    this.#keepEpochs();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      slots.inFlight--;
      // The team's slots were all taken: another instance may be waiting for this one, so it goes back
      // at once; else it stays a moment for this instance's next call.
      if (slots.full) {
        this.#giveBackSpare(keyId, slots);
        this.#forgetIfIdle(keyId, slots);
        return;
      }
      if (!slots.linger) {
        slots.linger = setTimeout(() => {
          slots.linger = undefined;
          this.#giveBackSpare(keyId, slots);
          this.#forgetIfIdle(keyId, slots);
        }, LINGER_MS);
        slots.linger.unref();
      }
    };
  }

  /** The calls running here keep their slots in the new epoch's counter; spare slots stay behind. */
  #moveTo(keyId: string, slots: KeySlots, epoch: number): void {
    slots.epoch = epoch;
    slots.held = slots.inFlight;
    if (slots.inFlight > 0) this.#add(counterName(keyId, epoch), slots.inFlight, epoch);
  }

  #giveBackSpare(keyId: string, slots: KeySlots): void {
    const spare = slots.held - slots.inFlight;
    if (spare <= 0) return;
    slots.held -= spare;
    this.#add(counterName(keyId, slots.epoch), -spare, slots.epoch);
  }

  #forgetIfIdle(keyId: string, slots: KeySlots): void {
    if (slots.inFlight === 0 && slots.held === 0 && !slots.pending && slots.waiting === 0 && !slots.linger)
      this.#keys.delete(keyId);
  }

  #add(name: string, amount: number, epoch: number): void {
    this.#store
      .addToCounter(name, amount, expiresAt(epoch), randomUUID())
      .catch((err) => this.#onError?.(err));
  }

  /**
   * While calls run, moves their slots at each epoch's start even when no call arrives to do it, so
   * other instances see them in the new counter.
   */
  #keepEpochs(): void {
    if (this.#epochTimer) return;
    const tick = () => {
      this.#epochTimer = undefined;
      const epoch = this.#epoch();
      let running = false;
      for (const [keyId, slots] of this.#keys) {
        if (slots.epoch !== epoch) this.#moveTo(keyId, slots, epoch);
        if (slots.inFlight > 0) running = true;
        this.#forgetIfIdle(keyId, slots);
      }
      if (running) this.#schedule(tick);
    };
    this.#schedule(tick);
  }

  #schedule(tick: () => void): void {
    const now = this.#now();
    this.#epochTimer = setTimeout(tick, EPOCH_MS - (now % EPOCH_MS) + 5);
    this.#epochTimer.unref();
  }
}

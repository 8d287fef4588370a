import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  BodyBudget,
  type BodyRefusal,
  bodyBudgetOf,
  bodyRefusalReporter,
  callerShareOf,
  defaultBodyBudget,
  newBodyBudget,
} from './body-budget.ts';
import type { Logger } from './logger.ts';

const MIB = 1024 * 1024;
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('BodyBudget', () => {
  it('lets requests take bytes until the budget is spent, and gives them back when each response closes', () => {
    const budget = new BodyBudget(100);
    const first = response();
    const second = response();
    const a = budget.holdFor(first, 'key-a');
    const b = budget.holdFor(second, 'key-b');
    expect(a.take(60)).toBeUndefined();
    // Refused whole (nothing of it counted), with the 529 the SDKs retry.
    expect(b.take(50)).toMatchObject({ type: 'overloaded_error', status: 529 });
    expect(b.take(40)).toBeUndefined();
    expect(budget.held).toBe(100);
    first.emit('close');
    expect(budget.held).toBe(40);
    expect(budget.heldBy('key-a')).toBe(0);
    expect(budget.holdFor(response(), 'key-c').take(60)).toBeUndefined();
    second.emit('close');
    second.emit('close'); // given back once
    expect(budget.held).toBe(60);
    expect(budget.heldBy('key-b')).toBe(0);
  });

  it('keeps one caller to its share, refused with 429, while others still take the rest', () => {
    const refusals: BodyRefusal[] = [];
    const budget = new BodyBudget(100, { callerShare: 50, onRefused: (r) => refusals.push(r) });
    const hog = [response(), response(), response()];
    expect(budget.holdFor(hog[0]!, 'hog').take(30)).toBeUndefined();
    expect(budget.holdFor(hog[1]!, 'hog').take(20)).toBeUndefined();
    const third = budget.holdFor(hog[2]!, 'hog');
    expect(third.take(1)).toMatchObject({
      type: 'rate_limit_error',
      status: 429,
      headers: { 'retry-after': '2' },
    });
    expect(refusals).toEqual([{ scope: 'caller', bytes: 1, held: 50, limit: 50 }]);
    // Another key fits in the half the hog cannot take.
    const other = budget.holdFor(response(), 'other');
    expect(other.take(50)).toBeUndefined();
    expect(budget.held).toBe(100);
    // Its share comes back as its requests end.
    hog[0]!.emit('close');
    expect(third.take(30)).toBeUndefined();
    expect(budget.heldBy('hog')).toBe(50);
  });

  it('gives each caller half the budget, never less than one largest body nor more than the budget', () => {
    expect(callerShareOf(256 * MIB, 32 * MIB)).toBe(128 * MIB);
    expect(callerShareOf(40 * MIB, 32 * MIB)).toBe(32 * MIB);
    expect(callerShareOf(32 * MIB, 32 * MIB)).toBe(32 * MIB);
    const budget = newBodyBudget({ maxBodyBytesInFlight: 300, maxBodyBytes: 100 });
    expect([budget.limit, budget.callerShare]).toEqual([300, 150]);
  });

  it('defaults to a 16th of the heap limit, never below one largest body', () => {
    expect(defaultBodyBudget(32 * MIB, 4096 * MIB)).toBe(256 * MIB);
    expect(defaultBodyBudget(32 * MIB, 256 * MIB)).toBe(32 * MIB);
  });

  it('never runs with less than one largest body, whatever is configured', () => {
    expect(bodyBudgetOf(64 * MIB, 32 * MIB)).toBe(64 * MIB);
    expect(bodyBudgetOf(MIB, 32 * MIB)).toBe(32 * MIB);
    expect(bodyBudgetOf(0, 32 * MIB)).toBe(defaultBodyBudget(32 * MIB));
  });
});

describe('bodyRefusalReporter', () => {
  it('hears every refusal, counts each and logs at most once a minute, with the refusals in between', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (fields: unknown) => warnings.push(fields) } as unknown as Logger;
    const registry = new Registry();
    const bodyBudgetRefusals = new Counter({ name: 'refusals', help: 'refusals', registers: [registry] });
    let clock = 0;
    const report = bodyRefusalReporter(
      log,
      () => ({ bodyBudgetRefusals }),
      () => clock,
    );
    const heard: BodyRefusal[] = [];
    const budget = new BodyBudget(100, {
      onRefused: (refusal) => {
        heard.push(refusal);
        report(refusal);
      },
    });
    const hold = budget.holdFor(response(), 'master');
    expect(hold.take(80)).toBeUndefined();
    expect(hold.take(30)).toBeDefined();
    clock = 30_000;
    expect(hold.take(25)).toBeDefined();
    clock = 61_000;
    expect(hold.take(21)).toBeDefined();
    expect(heard).toEqual([
      { scope: 'gateway', bytes: 30, held: 80, limit: 100 },
      { scope: 'gateway', bytes: 25, held: 80, limit: 100 },
      { scope: 'gateway', bytes: 21, held: 80, limit: 100 },
    ]);
    expect((await registry.getSingleMetric('refusals')?.get())?.values[0]?.value).toBe(3);
    expect(warnings).toEqual([
      { scope: 'gateway', bytes: 30, held: 80, limit: 100, refusalsSinceLastLog: 1 },
      { scope: 'gateway', bytes: 21, held: 80, limit: 100, refusalsSinceLastLog: 2 },
    ]);
  });
});

import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  BodyBudget,
  type BodyRefusal,
  bodyBudgetOf,
  bodyRefusalReporter,
  defaultBodyBudget,
} from './body-budget.ts';
import type { Logger } from './logger.ts';

const MIB = 1024 * 1024;
const response = () => new EventEmitter() as unknown as ServerResponse;

describe('BodyBudget', () => {
  it('lets requests take bytes until the budget is spent, and gives them back when each response closes', () => {
    const budget = new BodyBudget(100);
    const first = response();
    const second = response();
    const a = budget.holdFor(first);
    const b = budget.holdFor(second);
    expect(a.take(60)).toBe(true);
    expect(b.take(50)).toBe(false); // refused whole: nothing of it counted
    expect(b.take(40)).toBe(true);
    expect(budget.held).toBe(100);
    first.emit('close');
    expect(budget.held).toBe(40);
    expect(budget.holdFor(response()).take(60)).toBe(true);
    second.emit('close');
    second.emit('close'); // given back once
    expect(budget.held).toBe(60);
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
    const budget = new BodyBudget(100, (refusal) => {
      heard.push(refusal);
      report(refusal);
    });
    const hold = budget.holdFor(response());
    expect(hold.take(80)).toBe(true);
    expect(hold.take(30)).toBe(false);
    clock = 30_000;
    expect(hold.take(25)).toBe(false);
    clock = 61_000;
    expect(hold.take(21)).toBe(false);
    expect(heard).toEqual([
      { bytes: 30, held: 80, limit: 100 },
      { bytes: 25, held: 80, limit: 100 },
      { bytes: 21, held: 80, limit: 100 },
    ]);
    expect((await registry.getSingleMetric('refusals')?.get())?.values[0]?.value).toBe(3);
    expect(warnings).toEqual([
      { bytes: 30, held: 80, limit: 100, refusalsSinceLastLog: 1 },
      { bytes: 21, held: 80, limit: 100, refusalsSinceLastLog: 2 },
    ]);
  });
});

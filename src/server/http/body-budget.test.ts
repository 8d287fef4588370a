import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { BodyBudget, defaultBodyBudget } from './body-budget.ts';

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
});

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLOSE_SETTLE_MS, gcFunction, idleRelease } from './idle-release.ts';

const MB = 1024 * 1024;

/** A fake resident set and a collector that brings it back to `floor`. */
function fakeMemory(start: number, floor: number) {
  const state = { rss: start, collections: 0 };
  return {
    state,
    rss: () => state.rss,
    collect: () => {
      state.collections++;
      state.rss = floor;
    },
  };
}

describe('idleRelease', () => {
  it('collects once after a burst, when nothing has been in flight for the quiet time', async () => {
    const mem = fakeMemory(100 * MB, 110 * MB);
    const releases: number[] = [];
    const release = idleRelease({
      quietMs: 20,
      minGrowthBytes: 32 * MB,
      minInFlight: 256,
      rss: mem.rss,
      collect: mem.collect,
      onRelease: (info) => releases.push(info.afterBytes),
    });
    for (let n = 1; n <= 2000; n++) release.started(n);
    mem.state.rss = 240 * MB;
    release.finished(0);
    await sleep(80);
    expect(mem.state.collections).toBe(1);
    expect(releases).toEqual([110 * MB]);
    // The next burst without new growth collects nothing.
    for (let n = 1; n <= 2000; n++) release.started(n);
    mem.state.rss = 130 * MB;
    release.finished(0);
    await sleep(80);
    expect(mem.state.collections).toBe(1);
    release.stop();
  });

  it('does not collect when a request starts within the quiet time', async () => {
    const mem = fakeMemory(100 * MB, 100 * MB);
    const release = idleRelease({
      quietMs: 40,
      minGrowthBytes: MB,
      minInFlight: 1,
      lowWater: 0,
      rss: mem.rss,
      collect: mem.collect,
    });
    release.started(1);
    mem.state.rss = 200 * MB;
    release.finished(0);
    await sleep(5);
    release.started(1);
    await sleep(100);
    expect(mem.state.collections).toBe(0);
    release.finished(0);
    await sleep(100);
    expect(mem.state.collections).toBe(1);
    release.stop();
  });

  it('collects with a few calls still in flight, not while more than the low water run', async () => {
    const mem = fakeMemory(100 * MB, 110 * MB);
    const release = idleRelease({
      quietMs: 30,
      minGrowthBytes: 32 * MB,
      minInFlight: 256,
      lowWater: 8,
      rss: mem.rss,
      collect: mem.collect,
    });
    for (let n = 1; n <= 2000; n++) release.started(n);
    mem.state.rss = 240 * MB;
    // The burst ebbs to nine calls: still above the low water, no release however long it lasts.
    for (let n = 1999; n >= 9; n--) release.finished(n);
    await sleep(80);
    expect(mem.state.collections).toBe(0);
    // Eight left, then seven; a call that starts meanwhile (eight again) does not put the release off.
    release.finished(8);
    release.finished(7);
    release.started(8);
    await sleep(80);
    expect(mem.state.collections).toBe(1);
    // The next burst: nine running at the due time cancel it; the next ebb to eight starts a new quiet time.
    for (let n = 9; n <= 2000; n++) release.started(n);
    mem.state.rss = 240 * MB;
    for (let n = 1999; n >= 8; n--) release.finished(n);
    release.started(9);
    await sleep(80);
    expect(mem.state.collections).toBe(1);
    release.finished(8);
    await sleep(80);
    expect(mem.state.collections).toBe(2);
    release.stop();
  });

  it('closes the idle connections once the last call ends, when the release ran with calls in flight', async () => {
    const mem = fakeMemory(100 * MB, 110 * MB);
    let inFlight = 0;
    const closes: number[] = [];
    const release = idleRelease({
      quietMs: 10,
      minGrowthBytes: MB,
      minInFlight: 256,
      rss: mem.rss,
      collect: mem.collect,
      // As the pool does: nothing is closed while a call runs.
      closeIdle: () => {
        closes.push(inFlight);
        return inFlight > 0 ? 0 : 5;
      },
    });
    for (inFlight = 1; inFlight <= 300; inFlight++) release.started(inFlight);
    mem.state.rss = 200 * MB;
    for (inFlight = 299; inFlight >= 3; inFlight--) release.finished(inFlight);
    inFlight = 3;
    await sleep(60);
    expect({ collections: mem.state.collections, closes }).toEqual({ collections: 1, closes: [3] });
    inFlight = 2;
    release.finished(2);
    inFlight = 0;
    release.finished(0);
    expect(closes).toEqual([3, 0]);
    // Once only.
    release.finished(0);
    expect(closes).toEqual([3, 0]);
    release.stop();
  });

  it('leaves a gateway alone that did not grow, or never had a burst, or has it switched off', async () => {
    const mem = fakeMemory(100 * MB, 90 * MB);
    const light = idleRelease({ quietMs: 10, minGrowthBytes: 32 * MB, rss: mem.rss, collect: mem.collect });
    for (let n = 1; n <= 1000; n++) light.started(n);
    mem.state.rss = 120 * MB;
    light.finished(0);
    await sleep(60);
    expect(mem.state.collections).toBe(0);
    // Steady moderate load (128 at once) grows the resident set to its working set: no collection.
    const steady = idleRelease({ quietMs: 10, minGrowthBytes: MB, rss: mem.rss, collect: mem.collect });
    for (let n = 1; n <= 128; n++) steady.started(n);
    mem.state.rss = 400 * MB;
    steady.finished(0);
    await sleep(60);
    expect(mem.state.collections).toBe(0);
    const off = idleRelease({
      quietMs: 0,
      minGrowthBytes: 0,
      minInFlight: 0,
      rss: mem.rss,
      collect: mem.collect,
    });
    off.started(5000);
    mem.state.rss = 500 * MB;
    off.finished(0);
    await sleep(60);
    expect(mem.state.collections).toBe(0);
  });

  it('closes the idle upstream connections first, and collects once they had time to close', async () => {
    const mem = fakeMemory(100 * MB, 110 * MB);
    const events: [string, number][] = [];
    const released: { closed: number }[] = [];
    const release = idleRelease({
      quietMs: 10,
      minGrowthBytes: MB,
      minInFlight: 1,
      rss: mem.rss,
      collect: () => {
        events.push(['collect', performance.now()]);
        mem.collect();
      },
      closeIdle: () => {
        events.push(['closeIdle', performance.now()]);
        return 3;
      },
      onRelease: (info) => released.push(info),
    });
    release.started(300);
    mem.state.rss = 200 * MB;
    release.finished(0);
    await sleep(10 + CLOSE_SETTLE_MS + 300);
    expect(events.map(([what]) => what)).toEqual(['closeIdle', 'collect']);
    // Node's timers may fire up to a millisecond early.
    expect(events[1]![1] - events[0]![1]).toBeGreaterThanOrEqual(CLOSE_SETTLE_MS - 1);
    expect(released).toMatchObject([{ closed: 3 }]);
    release.stop();
  });

  it('does not collect when a request starts while the closed connections settle; the next quiet does', async () => {
    const mem = fakeMemory(100 * MB, 110 * MB);
    let closes = 0;
    const release = idleRelease({
      quietMs: 10,
      minGrowthBytes: MB,
      minInFlight: 1,
      lowWater: 0,
      rss: mem.rss,
      collect: mem.collect,
      closeIdle: () => {
        closes++;
        // A request arrives before the settle time is over.
        if (closes === 1) setImmediate(() => release.started(1));
        return 1;
      },
    });
    release.started(300);
    mem.state.rss = 200 * MB;
    release.finished(0);
    await sleep(10 + CLOSE_SETTLE_MS + 300);
    expect({ closes, collections: mem.state.collections }).toEqual({ closes: 1, collections: 0 });
    release.finished(0);
    await sleep(10 + CLOSE_SETTLE_MS + 300);
    expect({ closes, collections: mem.state.collections }).toEqual({ closes: 2, collections: 1 });
    release.stop();
  });

  it('stop() cancels a pending release (the drain)', async () => {
    const mem = fakeMemory(100 * MB, 100 * MB);
    const release = idleRelease({ quietMs: 20, minGrowthBytes: MB, rss: mem.rss, collect: mem.collect });
    release.started(1000);
    mem.state.rss = 300 * MB;
    release.finished(0);
    release.stop();
    await sleep(80);
    expect(mem.state.collections).toBe(0);
  });
});

describe('gcFunction', () => {
  it('is the exposed gc as a last-resort collection, or nothing without --expose-gc', () => {
    const calls: unknown[] = [];
    gcFunction({ gc: (options: unknown) => calls.push(options) })!();
    expect(calls).toEqual([{ type: 'major', flavor: 'last-resort' }]);
    expect(gcFunction({})).toBeUndefined();
  });

  it('runs a real collection in a process started with --expose-gc', () => {
    const script = `import { gcFunction } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'idle-release.ts')).href)};
let ref;
(() => { ref = new WeakRef({ big: new Array(1000).fill(1) }); })();
setTimeout(() => { gcFunction()(); process.stdout.write(ref.deref() === undefined ? 'collected' : 'alive'); }, 1);`;
    const run = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('collected');
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { gcFunction, idleRelease } from './idle-release.ts';

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
      rss: mem.rss,
      collect: mem.collect,
      onRelease: (info) => releases.push(info.afterBytes),
    });
    release.busy();
    mem.state.rss = 240 * MB;
    release.idle();
    await sleep(80);
    expect(mem.state.collections).toBe(1);
    expect(releases).toEqual([110 * MB]);
    // The next quiet period with no new growth collects nothing.
    release.busy();
    mem.state.rss = 130 * MB;
    release.idle();
    await sleep(80);
    expect(mem.state.collections).toBe(1);
    release.stop();
  });

  it('does not collect when a request starts within the quiet time', async () => {
    const mem = fakeMemory(100 * MB, 100 * MB);
    const release = idleRelease({ quietMs: 40, minGrowthBytes: MB, rss: mem.rss, collect: mem.collect });
    mem.state.rss = 200 * MB;
    release.idle();
    await sleep(5);
    release.busy();
    await sleep(100);
    expect(mem.state.collections).toBe(0);
    release.idle();
    await sleep(100);
    expect(mem.state.collections).toBe(1);
    release.stop();
  });

  it('leaves a gateway that did not grow alone, and does nothing when switched off', async () => {
    const mem = fakeMemory(100 * MB, 90 * MB);
    const light = idleRelease({ quietMs: 10, minGrowthBytes: 32 * MB, rss: mem.rss, collect: mem.collect });
    mem.state.rss = 120 * MB;
    light.idle();
    await sleep(60);
    expect(mem.state.collections).toBe(0);
    const off = idleRelease({ quietMs: 0, minGrowthBytes: 0, rss: mem.rss, collect: mem.collect });
    mem.state.rss = 500 * MB;
    off.idle();
    await sleep(60);
    expect(mem.state.collections).toBe(0);
  });

  it('stop() cancels a pending release (the drain)', async () => {
    const mem = fakeMemory(100 * MB, 100 * MB);
    const release = idleRelease({ quietMs: 20, minGrowthBytes: MB, rss: mem.rss, collect: mem.collect });
    mem.state.rss = 300 * MB;
    release.idle();
    release.stop();
    await sleep(80);
    expect(mem.state.collections).toBe(0);
  });
});

describe('gcFunction', () => {
  it('runs a real collection without leaving a gc global behind', async () => {
    const hadGlobal = 'gc' in globalThis;
    const collect = gcFunction();
    expect(collect).toBeTypeOf('function');
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ big: new Array(1000).fill(1) });
    })();
    // A WeakRef's target stays alive until the job that made it ends.
    await sleep(1);
    collect!();
    expect(ref!.deref()).toBeUndefined();
    expect('gc' in globalThis).toBe(hadGlobal);
  });
});

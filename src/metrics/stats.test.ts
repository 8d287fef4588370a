import { describe, expect, it } from 'vitest';
import { RATE_WINDOW_S, RECENT_REQUESTS, type RequestMeter, ServerStats } from './stats.ts';

function fakeClock(start = 100_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ServerStats', () => {
  it('counts API requests, tokens and errors; probes are not requests', () => {
    const clock = fakeClock();
    const stats = new ServerStats(clock.now, () => 1_700_000_000_000);
    const ok: RequestMeter = { model: 'claude-x', inputTokens: 100, outputTokens: 20 };
    stats.finished(ok, 'POST', '/v1/messages', 200, clock.now() - 50);
    stats.finished({ model: 'qwen' }, 'POST', '/v1/messages', 429, clock.now() - 5);
    stats.finished({}, 'GET', '/health', 200, clock.now());
    const snap = stats.snapshot();
    expect(snap).toMatchObject({ requests: 2, errors: 1, inputTokens: 100, outputTokens: 20 });
    expect(snap.recent.map((r) => [r.model, r.status, r.error, r.ms])).toEqual([
      ['qwen', 429, true, 5],
      ['claude-x', 200, false, 50],
    ]);
  });

  it('tells listeners about each finished API request, with its key, until they unsubscribe', () => {
    const stats = new ServerStats();
    const seen: Array<[string, string, number]> = [];
    const stop = stats.onRequest((r) => seen.push([r.model, r.keyId, r.status]));
    stats.finished({ model: 'm1' }, 'POST', '/v1/messages', 200, performance.now(), 'key_a');
    stats.finished({}, 'GET', '/admin/api/keys', 200, performance.now());
    stats.finished({ model: 'm2' }, 'POST', '/v1/messages', 401, performance.now());
    stop();
    stats.finished({ model: 'm3' }, 'POST', '/v1/messages', 200, performance.now());
    expect(seen).toEqual([
      ['m1', 'key_a', 200],
      ['m2', '', 401],
    ]);
    expect(stats.snapshot().recent.map((r) => r.keyId)).toEqual(['', '', 'key_a']);
  });

  it('keeps client-chosen model names and paths short', () => {
    const stats = new ServerStats();
    stats.finished(
      { model: 'm'.repeat(100_000) },
      'POST',
      `/v1/${'p'.repeat(16_000)}`,
      404,
      performance.now(),
    );
    const [recent] = stats.snapshot().recent;
    expect(recent!.model.length).toBeLessThanOrEqual(256);
    expect(recent!.path.length).toBeLessThanOrEqual(256);
  });

  it('an error sent inside a 200 stream counts as an error', () => {
    const stats = new ServerStats();
    stats.finished({ stream: true, streamFailed: true }, 'POST', '/v1/messages', 200, performance.now());
    expect(stats.snapshot().errors).toBe(1);
  });

  it('active streams rise on open and fall when the request closes', () => {
    const stats = new ServerStats();
    const a: RequestMeter = {};
    const b: RequestMeter = {};
    stats.streamOpened(a);
    stats.streamOpened(a); // idempotent
    stats.streamOpened(b);
    expect(stats.snapshot().activeStreams).toBe(2);
    stats.finished(a, 'POST', '/v1/messages', 200, performance.now());
    expect(stats.snapshot().activeStreams).toBe(1);
  });

  it('TTFT p50 is the median of time to first token, and only the first token counts', () => {
    const clock = fakeClock();
    const stats = new ServerStats(clock.now);
    expect(stats.snapshot().ttftP50Ms).toBeUndefined();
    for (const ttft of [300, 100, 200, 900]) {
      const started = clock.now();
      const meter: RequestMeter = {};
      clock.advance(ttft);
      stats.firstToken(meter);
      clock.advance(1000);
      stats.firstToken(meter);
      stats.finished(meter, 'POST', '/v1/messages', 200, started);
    }
    expect(stats.snapshot().ttftP50Ms).toBe(250);
  });

  it('requests/s is over the last whole seconds and falls back to zero when idle', () => {
    const clock = fakeClock(0);
    const stats = new ServerStats(clock.now);
    for (let i = 0; i < 20; i++) {
      stats.finished({}, 'POST', '/v1/messages', 200, clock.now());
      clock.advance(100); // 10 requests a second for 2 s
    }
    clock.advance(1000);
    expect(stats.snapshot().requestsPerSecond).toBeCloseTo(20 / RATE_WINDOW_S);
    clock.advance((RATE_WINDOW_S + 2) * 1000);
    expect(stats.snapshot().requestsPerSecond).toBe(0);
  });

  it('keeps only the newest requests, newest first', () => {
    const stats = new ServerStats();
    for (let i = 0; i < RECENT_REQUESTS + 3; i++) {
      stats.finished({ model: `m${i}` }, 'POST', '/v1/messages', 200, performance.now());
    }
    const recent = stats.snapshot().recent;
    expect(recent).toHaveLength(RECENT_REQUESTS);
    expect(recent[0]!.model).toBe(`m${RECENT_REQUESTS + 2}`);
    expect(recent.at(-1)!.model).toBe('m3');
  });
});

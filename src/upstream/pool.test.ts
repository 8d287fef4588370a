import { describe, expect, it } from 'vitest';
import { ApiError } from '../anthropic/errors.ts';
import { awsError, scriptedInvoke as fake, scriptedMessagesApi } from './pool.fixture.ts';
import { MAX_BREAKERS, PROMPT_BYTES_PER_SECOND, UpstreamPool } from './pool.ts';
import type { BedrockRuntime } from './runtime.ts';
import { traceCallsWith } from './trace.ts';

type Options = ConstructorParameters<typeof UpstreamPool>[1];

/** Upstream `a` first, then `b` (the fakes' runtimes), as the pool lists them. */
const pairPool = (a: { runtime: BedrockRuntime }, b: { runtime: BedrockRuntime }, options?: Options) =>
  new UpstreamPool(
    [
      { name: 'a', runtime: a.runtime },
      { name: 'b', runtime: b.runtime },
    ],
    options,
  );

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const invoke = (pool: UpstreamPool, modelId = 'anthropic.claude-x') =>
  pool.invokeModel({ modelId, body: '{}' });

/** A call's signal with the trace the pool fills in (who served it, how many attempts failed). */
/** An upstream whose streams start answering after `ms` (or fail when the attempt is given up). */
const startsIn = (ms: number, name: string) =>
  ({
    invokeModelStream: (_input: unknown, signal?: AbortSignal) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ requestId: name, stream: (async function* () {})() }), ms);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(signal.reason);
        });
      }),
  }) as unknown as BedrockRuntime;

function traced() {
  const trace = { failedAttempts: 0 } as { served?: string; called?: string; failedAttempts: number };
  const signal = new AbortController().signal;
  traceCallsWith(signal, trace);
  return { trace, signal };
}

/** A pool observer that lists each attempt as `upstream outcome`. */
function attempts() {
  const outcomes: string[] = [];
  const observer = {
    attempt: (upstream: string, outcome: string) => outcomes.push(`${upstream} ${outcome}`),
  };
  return { outcomes, observer };
}

describe('UpstreamPool', () => {
  it('moves a throttled call to the next upstream and says who served it', async () => {
    const a = fake([awsError('ThrottlingException', 429)]);
    const b = fake(['from b']);
    const pool = pairPool(a, b);
    const { trace, signal } = traced();
    const answer = await pool.invokeModel({ modelId: 'anthropic.claude-x', body: '{}' }, signal);
    expect(text(answer)).toBe('from b');
    expect(trace).toEqual({ served: 'b', called: 'anthropic.claude-x', failedAttempts: 1 });
  });

  it("an upstream's refused credentials move the call on and are counted as credentials, not network", async () => {
    const assumeFailed = Object.assign(new Error('Could not assume the upstream role'), {
      name: 'CredentialsProviderError',
    });
    const a = fake([awsError('ExpiredTokenException', 403), assumeFailed]);
    const b = fake(['from b']);
    const { outcomes, observer } = attempts();
    const pool = pairPool(a, b, { observer });
    expect(text(await invoke(pool))).toBe('from b');
    expect(text(await invoke(pool))).toBe('from b');
    expect(outcomes).toEqual(['a credentials', 'b ok', 'a credentials', 'b ok']);
    expect(pool.health()[0]!.recentFaults).toEqual({ credentials: 2 });
  });

  it('an upstream that never answered in time is counted as a timeout, and the client gets its 504', async () => {
    const silent = Object.assign(new Error('Headers Timeout Error'), {
      name: 'HeadersTimeoutError',
      code: 'UND_ERR_HEADERS_TIMEOUT',
    });
    const a = fake([silent]);
    const b = fake([silent]);
    const { outcomes, observer } = attempts();
    const pool = pairPool(a, b, { observer });
    await expect(invoke(pool)).rejects.toBe(silent);
    expect(outcomes).toEqual(['a timeout', 'b timeout']);
  });

  it('never retries a client fault elsewhere', async () => {
    const a = fake([awsError('ValidationException', 400)]);
    const b = fake(['from b']);
    const pool = pairPool(a, b);
    await expect(invoke(pool)).rejects.toMatchObject({ name: 'ValidationException' });
    expect(b.calls).toEqual([]);
  });

  it('a model one account may not call, or one region does not know, is tried on the next upstream; a model none serves stays a 404', async () => {
    const unknownModel = Object.assign(awsError('ValidationException', 400), {
      message: 'The provided model identifier is invalid.',
    });
    const a = fake([awsError('AccessDeniedException', 403), unknownModel]);
    const b = fake(['from b']);
    const { outcomes, observer } = attempts();
    const pool = pairPool(a, b, { observer });
    expect(text(await invoke(pool))).toBe('from b');
    expect(text(await invoke(pool))).toBe('from b');
    expect(outcomes).toEqual(['a access', 'b ok', 'a access', 'b ok']);

    // No upstream has it: the client's 404 every time, never an open breaker's 529.
    const gone = () =>
      fake([
        Object.assign(awsError('ValidationException', 400), {
          message: 'The provided model identifier is invalid.',
        }),
      ]);
    const nowhere = pairPool(gone(), gone());
    for (let i = 0; i < 5; i++) {
      await expect(invoke(nowhere, 'anthropic.claude-typo')).rejects.toMatchObject({
        message: 'The provided model identifier is invalid.',
      });
    }
  });

  it('all throttled: 429 with the soonest retry-after', async () => {
    const a = fake([awsError('ThrottlingException', 429, { 'retry-after': '30' })]);
    const b = fake([awsError('ThrottlingException', 429, { 'retry-after': '7' })]);
    const pool = pairPool(a, b);
    const err = await invoke(pool).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, type: 'rate_limit_error', headers: { 'retry-after': '7' } });
  });

  it('opens the breaker after repeated faults, probes once it cooled down, closes on success', async () => {
    let now = 1_000_000;
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const a = fake([refused, refused, refused, 'a healed']);
    const b = fake(['from b']);
    const pool = pairPool(a, b, { breaker: { threshold: 2, openMs: 1_000 }, now: () => now });
    for (let i = 0; i < 4; i++) expect(text(await invoke(pool))).toBe('from b');
    expect(a.calls).toHaveLength(2); // skipped while open
    expect(pool.breakerStates()).toEqual([
      { upstream: 'a', model: 'anthropic.claude-x', state: 'open', blank: false },
      { upstream: 'b', model: 'anthropic.claude-x', state: 'closed', blank: true },
    ]);
    now += 1_001;
    expect(text(await invoke(pool))).toBe('from b'); // the probe failed: open again, for longer
    expect(a.calls).toHaveLength(3);
    now += 1_001;
    expect(text(await invoke(pool))).toBe('from b');
    expect(a.calls).toHaveLength(3);
    now += 1_000;
    expect(text(await invoke(pool))).toBe('a healed');
    expect(text(await invoke(pool))).toBe('a healed');
  });

  it('made-up model ids do not grow the breakers (and their metric) without bound; a faulted one is kept', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const a = fake([refused, awsError('ValidationException', 400)]);
    const b = fake(['from b']);
    const pool = pairPool(a, b, { breaker: { threshold: 5 } });
    expect(text(await invoke(pool, 'anthropic.claude-real'))).toBe('from b'); // a: one fault counted
    for (let i = 0; i < MAX_BREAKERS * 4; i++) {
      await expect(invoke(pool, `made-up-${i}`)).rejects.toMatchObject({ name: 'ValidationException' });
    }
    const ofA = pool.breakerStates().filter((b) => b.upstream === 'a');
    expect(ofA.length).toBeLessThanOrEqual(MAX_BREAKERS);
    expect(ofA.map((b) => b.model)).toContain('anthropic.claude-real');
  });

  it('routes by model globs and rewrites the inference-profile prefix per upstream', async () => {
    const a = fake(['a']);
    const b = fake(['b']);
    const pool = new UpstreamPool([
      { name: 'a', runtime: a.runtime, models: ['*qwen*'] },
      { name: 'b', runtime: b.runtime, profilePrefix: 'eu' },
    ]);
    expect(text(await invoke(pool, 'us.anthropic.claude-x'))).toBe('b');
    expect(b.calls).toEqual(['eu.anthropic.claude-x']);
    expect(text(await invoke(pool, 'qwen.qwen3-coder'))).toBe('a');
    expect(pool.servers('anthropic.claude-x')).toEqual(['b']);
  });

  it('CountTokens keeps the foundation model id on an upstream with a profile prefix (door too)', async () => {
    const seen: string[] = [];
    const runtime = {
      countTokens: async (input: { modelId: string }) => {
        seen.push(`count ${input.modelId}`);
        return 7;
      },
      forward: async (input: { modelId: string; operation: string }) => {
        seen.push(`${input.operation} ${input.modelId}`);
        return { status: 200, headers: {}, body: new Uint8Array() };
      },
    } as unknown as BedrockRuntime;
    const pool = new UpstreamPool([{ name: 'a', runtime, profilePrefix: 'eu' }]);
    expect(await pool.countTokens({ modelId: 'anthropic.claude-x', input: undefined })).toBe(7);
    const forward = (operation: 'count-tokens' | 'converse') =>
      pool.forward({ operation, modelId: 'anthropic.claude-x', body: new Uint8Array(), headers: {} });
    await forward('count-tokens');
    await forward('converse');
    expect(seen).toEqual([
      'count anthropic.claude-x',
      'count-tokens anthropic.claude-x',
      'converse eu.anthropic.claude-x',
    ]);
  });

  it('weighted: least loaded by weight first', async () => {
    const gates: (() => void)[] = [];
    const slow = (name: string) =>
      ({
        invokeModel: () =>
          new Promise<Uint8Array>((resolve) => gates.push(() => resolve(new TextEncoder().encode(name)))),
      }) as unknown as BedrockRuntime;
    const pool = new UpstreamPool(
      [
        { name: 'a', runtime: slow('a'), weight: 1 },
        { name: 'b', runtime: slow('b'), weight: 2 },
      ],
      { strategy: 'weighted' },
    );
    const calls = [invoke(pool), invoke(pool), invoke(pool), invoke(pool)];
    for (const open of gates) open();
    expect((await Promise.all(calls)).map(text)).toEqual(['a', 'b', 'b', 'a']);
  });

  it('a stream that does not start in time moves on; a non-streamed call is never cut', async () => {
    const hanging = {
      invokeModelStream: (_input: unknown, signal?: AbortSignal) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
      invokeModel: () =>
        new Promise((resolve) => setTimeout(() => resolve(new TextEncoder().encode('slow a')), 100)),
    } as unknown as BedrockRuntime;
    const b = {
      invokeModelStream: async () => ({ requestId: 'b', stream: (async function* () {})() }),
      invokeModel: async () => new TextEncoder().encode('b'),
    } as unknown as BedrockRuntime;
    const pool = new UpstreamPool(
      [
        { name: 'a', runtime: hanging },
        { name: 'b', runtime: b },
      ],
      { firstByteTimeoutMs: 20 },
    );
    const { trace, signal } = traced();
    const result = await pool.invokeModelStream({ modelId: 'm', body: '{}' }, signal);
    expect(result.requestId).toBe('b');
    expect(trace).toEqual({ served: 'b', called: 'm', failedAttempts: 1 });
    expect(text(await invoke(pool, 'm'))).toBe('slow a');
  });

  it('a non-stream call silent for longer than its max_tokens could take moves on, past the deadline, and its upstream is learnt; a slow answer within it is not cut', async () => {
    /** Answers a non-stream call after `ms` (never, when undefined), or fails when the attempt is given up. */
    const answersIn = (ms: number | undefined, name: string) =>
      ({
        invokeModel: (_input: unknown, signal?: AbortSignal) =>
          new Promise((resolve, reject) => {
            const timer =
              ms === undefined ? undefined : setTimeout(() => resolve(new TextEncoder().encode(name)), ms);
            signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason);
            });
          }),
      }) as unknown as BedrockRuntime;
    // One token at SLOWEST_TOKENS_PER_SECOND is 100 ms: 20 + 100 ms, well past the 10-ms deadline.
    const options = { firstByteTimeoutMs: 20, deadlineMs: 10 };
    const ask = (pool: UpstreamPool, signal?: AbortSignal) =>
      pool.invokeModel({ modelId: 'm', body: '{}', maxTokens: 1 }, signal);
    const silentA = new UpstreamPool(
      [
        { name: 'a', runtime: answersIn(undefined, 'a') },
        { name: 'b', runtime: answersIn(0, 'b') },
      ],
      options,
    );
    const { trace, signal } = traced();
    expect(text(await ask(silentA, signal))).toBe('b');
    expect(trace).toEqual({ served: 'b', called: 'm', failedAttempts: 1 });
    await ask(silentA);
    await ask(silentA);
    expect(silentA.health()[0]).toMatchObject({ state: 'open', recentFaults: { timeout: 3 } });

    const slowA = new UpstreamPool(
      [
        { name: 'a', runtime: answersIn(80, 'a') },
        { name: 'b', runtime: answersIn(0, 'b') },
      ],
      options,
    );
    expect(text(await ask(slowA))).toBe('a');
    // No max_tokens, no bound: never cut.
    const unknown = new UpstreamPool(
      [
        { name: 'a', runtime: answersIn(300, 'a') },
        { name: 'b', runtime: answersIn(0, 'b') },
      ],
      options,
    );
    expect(text(await unknown.invokeModel({ modelId: 'm', body: '{}' }))).toBe('a');
  });

  it('a large prompt gets a second more on the first-byte timer per PROMPT_BYTES_PER_SECOND: it is not cut and paid for twice', async () => {
    const pool = new UpstreamPool(
      [
        { name: 'a', runtime: startsIn(300, 'a') },
        { name: 'b', runtime: startsIn(0, 'b') },
      ],
      { firstByteTimeoutMs: 20 },
    );
    const small = traced();
    expect((await pool.invokeModelStream({ modelId: 'm', body: '{}' }, small.signal)).requestId).toBe('b');
    // One PROMPT_BYTES_PER_SECOND of prompt: 20 ms + 1 s, and a starts in 300 ms.
    const large = traced();
    const body = JSON.stringify({ prompt: 'x'.repeat(PROMPT_BYTES_PER_SECOND) });
    expect((await pool.invokeModelStream({ modelId: 'm', body }, large.signal)).requestId).toBe('a');
    expect(large.trace).toEqual({ served: 'a', called: 'm', failedAttempts: 0 });
  });

  it('the first-byte timer never cuts the last attempt: a prompt slow to start is served, not failed everywhere', async () => {
    const pool = new UpstreamPool(
      [
        { name: 'a', runtime: startsIn(60, 'a') },
        { name: 'b', runtime: startsIn(60, 'b') },
      ],
      { firstByteTimeoutMs: 20 },
    );
    const { trace, signal } = traced();
    // a is cut (b may answer sooner); b, the last one, is given the time it takes.
    expect((await pool.invokeModelStream({ modelId: 'm', body: '{}' }, signal)).requestId).toBe('b');
    expect(trace).toEqual({ served: 'b', called: 'm', failedAttempts: 1 });

    const alone = new UpstreamPool([{ name: 'a', runtime: startsIn(60, 'a') }], { firstByteTimeoutMs: 20 });
    expect((await alone.invokeModelStream({ modelId: 'm', body: '{}' })).requestId).toBe('a');
    const oneAttempt = new UpstreamPool(
      [
        { name: 'a', runtime: startsIn(60, 'a') },
        { name: 'b', runtime: startsIn(60, 'b') },
      ],
      { firstByteTimeoutMs: 20, maxAttempts: 1 },
    );
    expect((await oneAttempt.invokeModelStream({ modelId: 'm', body: '{}' })).requestId).toBe('a');
  });

  it('a first-byte cut counts against its upstream only when the next one started sooner', async () => {
    const startsIn = (ms: number) =>
      ({
        invokeModelStream: (_input: unknown, signal?: AbortSignal) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(
              () => resolve({ requestId: 'r', stream: (async function* () {})() }),
              ms,
            );
            signal?.addEventListener('abort', () => {
              clearTimeout(timer);
              reject(signal.reason);
            });
          }),
      }) as unknown as BedrockRuntime;
    const stream = (pool: UpstreamPool) => pool.invokeModelStream({ modelId: 'm', body: '{}' });
    // Both slow to start (the prompt): a is cut every time, yet never shut out.
    const slowEverywhere = new UpstreamPool(
      [
        { name: 'a', runtime: startsIn(60) },
        { name: 'b', runtime: startsIn(60) },
      ],
      { firstByteTimeoutMs: 20 },
    );
    for (let i = 0; i < 4; i++) await stream(slowEverywhere);
    expect(slowEverywhere.health()[0]).toMatchObject({ state: 'closed', recentFaults: { timeout: 4 } });
    // b starts at once: a was the slow one, and three cuts open its breaker.
    const slowA = new UpstreamPool(
      [
        { name: 'a', runtime: startsIn(60) },
        { name: 'b', runtime: startsIn(0) },
      ],
      { firstByteTimeoutMs: 20 },
    );
    for (let i = 0; i < 3; i++) await stream(slowA);
    expect(slowA.health()[0]!.state).toBe('open');
  });

  it('an upstream whose streams keep breaking after they began is skipped once its breaker opens', async () => {
    const streaming = (name: string, breaks: boolean) =>
      ({
        invokeModelStream: async () => ({
          requestId: name,
          stream: (async function* () {
            yield { chunk: {} };
            if (breaks) throw awsError('ServiceUnavailableException', 503);
          })(),
        }),
      }) as unknown as BedrockRuntime;
    const pool = new UpstreamPool([
      { name: 'a', runtime: streaming('a', true) },
      { name: 'b', runtime: streaming('b', false) },
    ]);
    const servedBy = async () => {
      const answer = await pool.invokeModelStream({ modelId: 'm', body: '{}' });
      try {
        for await (const _ of answer.stream);
      } catch {
        // The client gets the in-stream error; nothing is replayed.
      }
      return answer.requestId;
    };
    expect([await servedBy(), await servedBy(), await servedBy()]).toEqual(['a', 'a', 'a']);
    expect(await servedBy()).toBe('b');
    expect(pool.health()[0]).toMatchObject({ state: 'open', recentFaults: { overloaded: 3 } });
  });

  it('weighted: an open stream keeps its upstream loaded until it ends', async () => {
    const streaming = (name: string) =>
      ({
        invokeModelStream: async () => ({
          requestId: name,
          stream: (async function* () {
            yield { chunk: {} };
          })(),
        }),
      }) as unknown as BedrockRuntime;
    const pool = new UpstreamPool(
      [
        { name: 'a', runtime: streaming('a') },
        { name: 'b', runtime: streaming('b') },
      ],
      { strategy: 'weighted' },
    );
    const open = await pool.invokeModelStream({ modelId: 'm', body: '{}' });
    expect(open.requestId).toBe('a');
    const next = await pool.invokeModelStream({ modelId: 'm', body: '{}' });
    expect(next.requestId).toBe('b'); // a still streams
    for await (const _ of open.stream) {
      // drain: a is free again
    }
    for await (const _ of next.stream) {
      // drain
    }
    expect((await pool.invokeModelStream({ modelId: 'm', body: '{}' })).requestId).toBe('a');
  });

  it('a model no upstream serves is a 404', async () => {
    const pool = new UpstreamPool([{ name: 'a', runtime: fake(['a']).runtime, models: ['qwen.*'] }]);
    await expect(invoke(pool)).rejects.toMatchObject({ status: 404, type: 'not_found_error' });
  });
});

describe('UpstreamPool per model and per catalogue', () => {
  it('a model only goes to upstreams whose catalogue has it; unknown catalogues do not exclude', async () => {
    const a = fake(['from a']);
    const b = fake(['from b']);
    const aHas: Record<string, boolean | undefined> = { 'anthropic.claude-x': true, 'amazon.nova': false };
    const pool = new UpstreamPool([
      { name: 'a', runtime: a.runtime, has: (id) => aHas[id] },
      { name: 'b', runtime: b.runtime },
    ]);
    expect(text(await invoke(pool, 'amazon.nova'))).toBe('from b');
    expect(text(await invoke(pool, 'anthropic.claude-x'))).toBe('from a');
    expect(text(await invoke(pool, 'other.model'))).toBe('from a');
    expect(pool.servers('amazon.nova')).toEqual(['b']);
  });

  it('when no catalogue has the model every upstream stays eligible (Bedrock says what is wrong)', async () => {
    const a = fake(['from a']);
    const pool = new UpstreamPool([{ name: 'a', runtime: a.runtime, has: () => false }]);
    expect(text(await invoke(pool))).toBe('from a');
  });

  it('picks the strategy per model by glob, matching the base id too', () => {
    const pool = new UpstreamPool([{ name: 'a', runtime: fake(['x']).runtime }], {
      strategy: 'failover',
      strategies: { '*claude-haiku*': 'weighted', 'amazon.*': 'weighted' },
    });
    expect(pool.strategyFor('us.anthropic.claude-haiku-4-5-v1:0')).toBe('weighted');
    expect(pool.strategyFor('us.amazon.nova-lite-v1:0')).toBe('weighted');
    expect(pool.strategyFor('us.anthropic.claude-sonnet-4-5-v1:0')).toBe('failover');
  });

  it('reports each upstream’s breaker state and recent faults', async () => {
    const a = fake([awsError('ServiceUnavailableException', 503)]);
    const b = fake(['from b']);
    const pool = pairPool(a, b, { breaker: { threshold: 2, openMs: 60_000 } });
    await invoke(pool);
    await invoke(pool);
    const [ha, hb] = pool.health();
    expect(ha).toMatchObject({ name: 'a', state: 'open', recentFaults: { overloaded: 2 } });
    expect(ha!.lastFault?.fault).toBe('overloaded');
    expect(ha!.breakers[0]).toMatchObject({ model: 'anthropic.claude-x', state: 'open' });
    expect(ha!.breakers[0]!.openUntil).toMatch(/^\d{4}-/);
    expect(hb).toMatchObject({ name: 'b', state: 'closed', recentFaults: {}, inFlight: 0 });
  });
});

describe("UpstreamPool: Bedrock's Messages API", () => {
  const call = (pool: UpstreamPool, host: 'runtime' | 'mantle', modelId: string) =>
    pool.messagesApi({ host, modelId, body: '{}', betas: [], stream: true });

  it('fails over like every call; runtime ids take the upstream profile, mantle ids stay bare', async () => {
    const a = scriptedMessagesApi([awsError('ThrottlingException', 429)]);
    const b = scriptedMessagesApi(['ok']);
    const pool = new UpstreamPool([
      { name: 'a', runtime: a.runtime, profilePrefix: 'eu' },
      { name: 'b', runtime: b.runtime, profilePrefix: 'eu' },
    ]);
    await call(pool, 'runtime', 'us.anthropic.claude-x');
    await call(pool, 'mantle', 'anthropic.claude-x');
    expect(a.calls).toEqual([
      ['runtime', 'eu.anthropic.claude-x'],
      ['mantle', 'anthropic.claude-x'],
    ]);
    expect(b.calls).toEqual([
      ['runtime', 'eu.anthropic.claude-x'],
      ['mantle', 'anthropic.claude-x'],
    ]);
  });
});

import { ListFoundationModelsCommand, ListInferenceProfilesCommand } from '@aws-sdk/client-bedrock';
import { ConverseCommand, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { Faults } from './faults.ts';
import { type Emulator, startEmulator } from './server.ts';
import { controlClient, runtimeClient } from './test-clients.ts';

const NOVA = 'amazon.nova-lite-v1:0';
const SONNET = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const user = (text: string) => ({ role: 'user' as const, content: [{ text }] });

const open: Emulator[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) await e.close();
});
async function emulator(): Promise<Emulator> {
  const e = await startEmulator();
  open.push(e);
  return e;
}

/** Outcome name of `n` Converse calls in a row: 'ok' or the exception name. */
async function outcomes(url: string, n: number, modelId = NOVA): Promise<string[]> {
  const client = runtimeClient(url, 'h1-keepalive');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await client
        .send(new ConverseCommand({ modelId, messages: [user(`hi ${i}`)] }))
        .then(() => 'ok')
        .catch((e: Error) => e.name),
    );
  }
  client.destroy();
  return out;
}

describe('fault rates', () => {
  it('percent spreads the share evenly and every hits each k-th call', () => {
    const faults = new Faults();
    faults.set({ throttle: { percent: 50 } });
    const hits = Array.from({ length: 10 }, () => faults.forCall(NOVA, false).throttle !== undefined);
    expect(hits).toEqual([false, true, false, true, false, true, false, true, false, true]);
    faults.set({ throttle: { percent: 30 } });
    expect(
      Array.from({ length: 100 }, () => faults.forCall(NOVA, false).throttle).filter(Boolean),
    ).toHaveLength(30);
    faults.set({ slowFirstByte: { ms: 10, every: 3 } });
    expect(Array.from({ length: 6 }, () => faults.forCall(NOVA, false).slowMs ?? 0)).toEqual([
      0, 0, 10, 0, 0, 10,
    ]);
  });

  it('a seed draws the same calls each time', () => {
    const draw = () => {
      const faults = new Faults();
      faults.set({ throttle: { percent: 50, seed: 7 } });
      return Array.from({ length: 40 }, () => faults.forCall(NOVA, false).throttle !== undefined);
    };
    const first = draw();
    expect(draw()).toEqual(first);
    const share = first.filter(Boolean).length;
    expect(share).toBeGreaterThan(8);
    expect(share).toBeLessThan(32);
  });

  it('a schedule bounds a fault in time', () => {
    let now = 1_000;
    const faults = new Faults(() => now);
    faults.set({ throttle: { afterMs: 100, forMs: 200 }, refuseConnections: { forMs: 50 } });
    expect(faults.refusing()).toBe(true);
    expect(faults.forCall(NOVA, false).throttle).toBeUndefined();
    now += 100;
    expect(faults.refusing()).toBe(false);
    expect(faults.forCall(NOVA, false).throttle?.name).toBe('ThrottlingException');
    now += 200;
    expect(faults.forCall(NOVA, false).throttle).toBeUndefined();
  });

  it('refuses a bad plan naming the field, and keeps the old one', () => {
    const faults = new Faults();
    faults.set({ throttle: { every: 1 } });
    expect(() => faults.set({ throttle: { percent: 150 } })).toThrow(/throttle\.percent/);
    expect(() => faults.set({ slowFirstByte: { every: 2 } })).toThrow(/slowFirstByte\.ms/);
    expect(() => faults.set({ throttel: {} })).toThrow(/throttel: unknown fault/);
    expect(() => faults.set({ dieMidStream: { afterEvents: 1, how: 'boom' } })).toThrow(/dieMidStream\.how/);
    expect(faults.forCall(NOVA, false).throttle).toBeDefined();
  });
});

describe('faults over the wire', () => {
  it('throttles half of the calls set through POST /__emulator/faults, with retry-after', async () => {
    const e = await emulator();
    const set = await fetch(`${e.url}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ throttle: { percent: 50, retryAfter: 3 } }),
    });
    expect(set.status).toBe(200);
    expect(await outcomes(e.url, 6)).toEqual([
      'ok',
      'ThrottlingException',
      'ok',
      'ThrottlingException',
      'ok',
      'ThrottlingException',
    ]);
    const throttled = e.requests.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(3);
    const bad = await fetch(`${e.url}/__emulator/faults`, {
      method: 'POST',
      body: '{"throttle":{"every":0}}',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/throttle\.every/);
  });

  it('slows the first byte', async () => {
    const e = await emulator();
    e.setFaults({ slowFirstByte: { ms: 400 } });
    const started = Date.now();
    expect(await outcomes(e.url, 1)).toEqual(['ok']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
  });

  it('refuses connections, then heals on schedule', async () => {
    const e = await emulator();
    e.setFaults({ refuseConnections: { forMs: 800 } });
    const [refused] = await outcomes(e.url, 1);
    expect(refused).not.toBe('ok');
    await new Promise((r) => setTimeout(r, 900));
    expect(await outcomes(e.url, 1)).toEqual(['ok']);
  });

  it('dies in the middle of a stream: an exception frame, or the connection dropped (inside a frame or not)', async () => {
    const e = await emulator();
    const client = runtimeClient(e.url, 'h1-keepalive');
    const readAll = async () => {
      const out = await client.send(
        new ConverseStreamCommand({ modelId: NOVA, messages: [user('a long enough question')] }),
      );
      let events = 0;
      try {
        for await (const _ of out.stream ?? []) events++;
        return { events, error: undefined as string | undefined };
      } catch (err) {
        return { events, error: (err as Error).name };
      }
    };
    e.setFaults({ dieMidStream: { afterEvents: 2 } });
    expect(await readAll()).toEqual({ events: 2, error: 'ServiceUnavailableException' });
    e.setFaults({ dieMidStream: { afterEvents: 2, how: 'disconnect' } });
    const dropped = await readAll();
    expect(dropped.events).toBe(2);
    expect(dropped.error).toBeDefined();
    // Half of the third event's frame, then the drop: the decoder sees the body end inside a frame.
    e.setFaults({ dieMidStream: { afterEvents: 2, how: 'torn' } });
    const torn = await readAll();
    expect(torn.events).toBe(2);
    expect(torn.error).toBeDefined();
    e.setFaults({});
    expect((await readAll()).error).toBeUndefined();
    client.destroy();
  });

  it('an account with only some models lists and serves only those', async () => {
    const e = await startEmulator({ faults: { models: ['claude-sonnet-4-5'] } });
    open.push(e);
    const control = controlClient(e.url);
    const models = await control.send(new ListFoundationModelsCommand({}));
    expect(models.modelSummaries?.map((m) => m.modelId)).toEqual([
      'anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
    const profiles = await control.send(new ListInferenceProfilesCommand({}));
    expect(profiles.inferenceProfileSummaries?.map((p) => p.inferenceProfileId)).toContain(SONNET);
    expect(
      profiles.inferenceProfileSummaries?.every((p) => p.inferenceProfileId?.includes('sonnet-4-5')),
    ).toBe(true);
    control.destroy();
    expect(await outcomes(e.url, 1, SONNET)).toEqual(['ok']);
    expect(await outcomes(e.url, 1, NOVA)).toEqual(['ValidationException']);
  });
});

import { type ListFoundationModelsCommand, ListInferenceProfilesCommand } from '@aws-sdk/client-bedrock';
import { describe, expect, it } from 'vitest';
import { snapshotOf } from './catalogue.fixture.ts';
import { Catalogue, catalogueHas, mantleModelIds, mergeSnapshots, withMantleModels } from './catalogue.ts';
import { resolveModel } from './resolve.ts';

type Command = ListFoundationModelsCommand | ListInferenceProfilesCommand;

/** A fake control-plane client: two profile pages, one application profile, counts its calls. */
function fakeClient(options: { fail?: () => boolean; delayMs?: number } = {}) {
  const calls: string[] = [];
  let generation = 0;
  const client = {
    calls,
    bump() {
      generation++;
    },
    async send(command: Command): Promise<unknown> {
      const input = command.input as { typeEquals?: string; nextToken?: string };
      calls.push(
        command instanceof ListInferenceProfilesCommand
          ? `profiles:${input.typeEquals}:${input.nextToken ?? ''}`
          : 'models',
      );
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      if (options.fail?.()) throw Object.assign(new Error('no route to host'), { name: 'TimeoutError' });
      if (!(command instanceof ListInferenceProfilesCommand)) {
        return {
          modelSummaries: [
            {
              modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0',
              modelName: 'Claude Sonnet 4.5',
              inputModalities: ['TEXT', 'IMAGE'],
              outputModalities: ['TEXT'],
              inferenceTypesSupported: ['INFERENCE_PROFILE'],
              modelLifecycle: { status: 'ACTIVE' },
            },
            {
              modelId: `qwen.qwen3-coder-480b-a35b-v1:${generation}`,
              inputModalities: ['TEXT'],
              outputModalities: ['TEXT'],
              inferenceTypesSupported: ['ON_DEMAND'],
              modelLifecycle: { status: 'ACTIVE' },
            },
          ],
        };
      }
      if (input.typeEquals === 'APPLICATION') throw new Error('AccessDeniedException');
      const profile = (prefix: string) => ({
        inferenceProfileId: `${prefix}.anthropic.claude-sonnet-4-5-20250929-v1:0`,
        inferenceProfileArn: `arn:aws:bedrock:us-east-1:1:inference-profile/${prefix}.anthropic.claude-sonnet-4-5-20250929-v1:0`,
        status: 'ACTIVE',
        type: 'SYSTEM_DEFINED',
        models: [
          {
            modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
          },
        ],
      });
      return input.nextToken
        ? { inferenceProfileSummaries: [profile('global')] }
        : { inferenceProfileSummaries: [profile('us')], nextToken: 'page2' };
    },
  };
  return client;
}

function clock(start = 1_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('Catalogue', () => {
  it('reads models and every page of profiles into a snapshot the resolver can use', async () => {
    const client = fakeClient();
    const catalogue = new Catalogue({ region: 'us-east-1', clientFor: () => client });
    const snap = await catalogue.snapshot();
    expect(snap.source).toBe('live');
    expect(snap.profiles.map((p) => p.id)).toEqual([
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
    expect(snap.profiles[0]!.modelIds).toEqual(['anthropic.claude-sonnet-4-5-20250929-v1:0']);
    expect(client.calls).toContain('profiles:SYSTEM_DEFINED:page2');
    expect(snap.models.find((m) => m.modelId.startsWith('qwen'))?.onDemand).toBe(true);
    expect(resolveModel('claude-sonnet-4-5', snap, { region: 'us-east-1' }).modelId).toBe(
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    );
  });

  it('caches for the TTL and loads once for concurrent callers', async () => {
    const client = fakeClient({ delayMs: 5 });
    const t = clock();
    const catalogue = new Catalogue({
      region: 'us-east-1',
      clientFor: () => client,
      ttlMs: 10_000,
      now: t.now,
    });
    const [a, b, c] = await Promise.all([catalogue.snapshot(), catalogue.snapshot(), catalogue.snapshot()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(client.calls.filter((x) => x === 'models')).toHaveLength(1);
    t.advance(5_000);
    expect(await catalogue.snapshot()).toBe(a);
    expect(client.calls.filter((x) => x === 'models')).toHaveLength(1);
  });

  it('serves the stale snapshot at once after the TTL and swaps in the refreshed one', async () => {
    const client = fakeClient();
    const t = clock();
    const catalogue = new Catalogue({
      region: 'us-east-1',
      clientFor: () => client,
      ttlMs: 10_000,
      now: t.now,
    });
    const first = await catalogue.snapshot();
    client.bump();
    t.advance(10_001);
    expect(await catalogue.snapshot()).toBe(first);
    await catalogue.refresh(); // joins the refresh already running
    const next = await catalogue.snapshot();
    expect(next).not.toBe(first);
    expect(next.models.some((m) => m.modelId === 'qwen.qwen3-coder-480b-a35b-v1:1')).toBe(true);
  });

  it('current() answers without waiting: starts the first load, refreshes a stale snapshot behind', async () => {
    // Calls stay in flight a moment, so that refresh() can join them.
    const client = fakeClient({ delayMs: 30 });
    const t = clock();
    const catalogue = new Catalogue({
      region: 'us-east-1',
      clientFor: () => client,
      ttlMs: 10_000,
      now: t.now,
    });
    expect(catalogue.current()).toBeUndefined();
    // The first load imports the control plane's SDK before its first call.
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.calls).toContain('models');
    const first = await catalogue.refresh(); // joins the load current() started
    expect(client.calls.filter((x) => x === 'models')).toHaveLength(1);
    expect(catalogue.current()).toBe(first);
    expect(client.calls.filter((x) => x === 'models')).toHaveLength(1);
    client.bump();
    t.advance(10_001);
    expect(catalogue.current()).toBe(first);
    expect(client.calls.filter((x) => x === 'models')).toHaveLength(2);
    await catalogue.refresh();
    expect(catalogue.current()).not.toBe(first);
    expect(catalogue.current()?.models.some((m) => m.modelId === 'qwen.qwen3-coder-480b-a35b-v1:1')).toBe(
      true,
    );
  });

  it('keeps the last good snapshot when a refresh fails, and never rejects', async () => {
    let failing = false;
    const errors: unknown[] = [];
    const client = fakeClient({ fail: () => failing });
    const t = clock();
    const catalogue = new Catalogue({
      region: 'us-east-1',
      clientFor: () => client,
      ttlMs: 1_000,
      now: t.now,
      onError: (e) => errors.push(e),
    });
    const good = await catalogue.snapshot();
    failing = true;
    t.advance(2_000);
    expect(await catalogue.refresh()).toBe(good);
    expect(await catalogue.snapshot()).toBe(good);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('still answers when the error reporter itself throws', async () => {
    const catalogue = new Catalogue({
      region: 'eu-west-1',
      clientFor: () => fakeClient({ fail: () => true }),
      onError: () => {
        throw new Error('logger down');
      },
    });
    expect((await catalogue.snapshot()).source).toBe('builtin');
  });

  it('falls back to the built-in Claude table when Bedrock cannot be read at all', async () => {
    const catalogue = new Catalogue({
      region: 'eu-west-1',
      clientFor: () => fakeClient({ fail: () => true }),
    });
    const snap = await catalogue.snapshot();
    expect(snap.source).toBe('builtin');
    expect(resolveModel('claude-opus-5-5', snap, { region: 'eu-west-1' }).modelId).toBe(
      'eu.anthropic.claude-opus-5-5',
    );
  });

  it('keeps one client per region, created on first use', async () => {
    const created: string[] = [];
    const catalogue = new Catalogue({
      region: 'us-east-1',
      clientFor: (region) => {
        created.push(region);
        return fakeClient();
      },
    });
    expect(created).toEqual([]);
    await catalogue.snapshot();
    await catalogue.snapshot('eu-west-1');
    await catalogue.refresh('us-east-1');
    expect(created).toEqual(['us-east-1', 'eu-west-1']);
    expect(catalogue.peek('eu-west-1')?.region).toBe('eu-west-1');
  });
});

describe('Catalogue with the real BedrockClient', () => {
  it('honours AWS_ENDPOINT_URL_BEDROCK through the SDK configuration', async () => {
    const http = await import('node:http');
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.url ?? '');
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/foundation-models')) {
        res.end(
          JSON.stringify({
            modelSummaries: [
              {
                modelId: 'openai.gpt-oss-20b-1:0',
                modelArn: 'arn:aws:bedrock:us-west-2::foundation-model/openai.gpt-oss-20b-1:0',
                inputModalities: ['TEXT'],
                outputModalities: ['TEXT'],
                inferenceTypesSupported: ['ON_DEMAND'],
                modelLifecycle: { status: 'ACTIVE' },
              },
            ],
          }),
        );
      } else {
        res.end(JSON.stringify({ inferenceProfileSummaries: [] }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    const previous = process.env.AWS_ENDPOINT_URL_BEDROCK;
    process.env.AWS_ENDPOINT_URL_BEDROCK = `http://127.0.0.1:${port}`;
    try {
      const catalogue = new Catalogue({
        region: 'us-west-2',
        clientConfig: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
      });
      const snap = await catalogue.snapshot();
      expect(snap.source).toBe('live');
      expect(snap.models.map((m) => m.modelId)).toEqual(['openai.gpt-oss-20b-1:0']);
      expect(seen.some((u) => u.startsWith('/inference-profiles'))).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_BEDROCK;
      else process.env.AWS_ENDPOINT_URL_BEDROCK = previous;
      server.close();
    }
  });
});

describe('several upstreams’ catalogues', () => {
  const east = snapshotOf('us-east-1', [{ id: 'anthropic.claude-sonnet-4-5-v1:0', profiles: ['us'] }]);
  const west = snapshotOf('us-west-2', [
    { id: 'anthropic.claude-sonnet-4-5-v1:0', profiles: ['us'] },
    { id: 'amazon.nova-lite-v1:0', onDemand: true },
  ]);

  it('catalogueHas knows profiles and models; cannot tell for ARNs or a built-in table', () => {
    expect(catalogueHas(east, 'us.anthropic.claude-sonnet-4-5-v1:0')).toBe(true);
    expect(catalogueHas(east, 'amazon.nova-lite-v1:0')).toBe(false);
    expect(catalogueHas(west, 'amazon.nova-lite-v1:0')).toBe(true);
    expect(catalogueHas(east, 'arn:aws:bedrock:us-east-1:1:application-inference-profile/x')).toBeUndefined();
    expect(catalogueHas({ ...east, source: 'builtin' }, 'amazon.nova-lite-v1:0')).toBeUndefined();
    expect(catalogueHas(undefined, 'amazon.nova-lite-v1:0')).toBeUndefined();
  });

  it('mergeSnapshots keeps the first one’s region and adds what the others have, once', () => {
    const merged = mergeSnapshots([east, west]);
    expect(merged.region).toBe('us-east-1');
    expect(merged.models.map((m) => m.modelId).sort()).toEqual([
      'amazon.nova-lite-v1:0',
      'anthropic.claude-sonnet-4-5-v1:0',
    ]);
    expect(merged.profiles.map((p) => p.id)).toEqual(['us.anthropic.claude-sonnet-4-5-v1:0']);
    // A built-in stand-in never hides what a live catalogue says.
    expect(mergeSnapshots([{ ...east, source: 'builtin' }, west])).toMatchObject({
      region: 'us-east-1',
      source: 'live',
    });
  });
});

describe('the bedrock-mantle host in the catalogue', () => {
  const runtime = snapshotOf('us-east-1', [
    { id: 'anthropic.claude-sonnet-4-5-20250929-v1:0', profiles: ['us'] },
    // Listed only behind a profile: still bedrock-runtime's.
    { id: 'qwen.qwen3-coder-480b-a35b-v1:0', onDemand: true },
  ]);
  const profileOnly = snapshotOf('us-east-1', [{ id: 'anthropic.claude-opus-4-7', profiles: ['us'] }]);
  const MANTLE = [
    'anthropic.claude-sonnet-4-5-20250929-v1:0',
    'anthropic.claude-opus-5-5',
    'anthropic.claude-opus-5-5',
    'openai.gpt-5.5',
    'anthropic.claude-opus-4-7',
  ];

  it('adds each Claude model only mantle lists, callable by its bare id; keeps the list', () => {
    const merged = withMantleModels(
      { ...runtime, profiles: [...runtime.profiles, ...profileOnly.profiles] },
      MANTLE,
    );
    const only = merged.models.filter((m) => m.mantleOnly);
    // Once, Claude only (open models on mantle speak OpenAI's APIs), not what a runtime profile serves.
    expect(only).toEqual([
      expect.objectContaining({
        modelId: 'anthropic.claude-opus-5-5',
        name: 'Claude Opus 5.5',
        onDemand: true,
        active: true,
        mantleOnly: true,
      }),
    ]);
    expect(merged.mantle).toEqual(MANTLE);
    expect(merged.models.slice(0, runtime.models.length)).toEqual(runtime.models);
    const resolved = resolveModel('claude-opus-5-5', merged, { region: 'us-east-1' });
    expect(resolved).toMatchObject({ modelId: 'anthropic.claude-opus-5-5', servedBy: 'mantle' });
  });

  it('reads the ids of an OpenAI-shaped model list, and refuses anything else', () => {
    expect(
      mantleModelIds({
        object: 'list',
        data: [{ id: 'a', object: 'model' }, { object: 'model' }, { id: 'b' }],
      }),
    ).toEqual(['a', 'b']);
    expect(mantleModelIds({ data: [] })).toEqual([]);
    // A hostile or broken host's list is bounded: ids of a sane length, 2,000 at the most.
    const flood = { data: Array.from({ length: 100_000 }, (_, i) => ({ id: `anthropic.claude-x-${i}` })) };
    expect(mantleModelIds(flood)).toHaveLength(2000);
    expect(mantleModelIds({ data: [{ id: 'x'.repeat(10_000) }, { id: 'ok' }] })).toEqual(['ok']);
    expect(() => mantleModelIds({ models: [] })).toThrow(/no data array/);
    expect(() => mantleModelIds(null)).toThrow(/no data array/);
  });

  it('loads the mantle list with the runtime catalogue; a mantle failure only leaves it out', async () => {
    const lists: string[] = [];
    const ok = new Catalogue({
      region: 'us-east-1',
      clientFor: () => fakeClient(),
      mantleModels: async (region) => {
        lists.push(region);
        return ['anthropic.claude-opus-5-5'];
      },
    });
    const snap = await ok.snapshot();
    expect(lists).toEqual(['us-east-1']);
    expect(snap.mantle).toEqual(['anthropic.claude-opus-5-5']);
    expect(resolveModel('claude-opus-5-5', snap, { region: 'us-east-1' }).servedBy).toBe('mantle');

    const reported: unknown[] = [];
    const failing = new Catalogue({
      region: 'us-east-1',
      clientFor: () => fakeClient(),
      mantleModels: async () => {
        throw new Error('getaddrinfo ENOTFOUND bedrock-mantle.us-east-1.api.aws');
      },
      onMantleError: (err) => reported.push(err),
    });
    const without = await failing.snapshot();
    expect(without.source).toBe('live');
    expect(without.mantle).toBeUndefined();
    expect(reported).toHaveLength(1);
    expect(resolveModel('claude-sonnet-4-5', without, { region: 'us-east-1' }).servedBy).toBeUndefined();
    expect(() => resolveModel('claude-opus-5-5', without, { region: 'us-east-1' })).toThrow(
      /model: claude-opus-5-5/,
    );
  });

  it('merges upstreams: mantle lists joined, and a model one runtime serves is not mantle-only', () => {
    const east = withMantleModels(runtime, ['anthropic.claude-opus-5-5', 'anthropic.claude-opus-4-7']);
    const west = withMantleModels(profileOnly, ['anthropic.claude-fable-5']);
    const merged = mergeSnapshots([east, west]);
    expect(merged.mantle?.slice().sort()).toEqual([
      'anthropic.claude-fable-5',
      'anthropic.claude-opus-4-7',
      'anthropic.claude-opus-5-5',
    ]);
    expect(
      merged.models
        .filter((m) => m.mantleOnly)
        .map((m) => m.modelId)
        .sort(),
    ).toEqual(['anthropic.claude-fable-5', 'anthropic.claude-opus-5-5']);
    expect(resolveModel('claude-opus-4-7', merged, { region: 'us-east-1' })).toMatchObject({
      modelId: 'us.anthropic.claude-opus-4-7',
    });
    expect(resolveModel('claude-opus-4-7', merged, { region: 'us-east-1' }).servedBy).toBeUndefined();
    // Without any mantle list, none in the merge either.
    expect(mergeSnapshots([runtime, profileOnly]).mantle).toBeUndefined();
  });

  it("matches mantle's spelling (no date, no revision) to the runtime's model, and calls mantle by it", () => {
    const mixed = withMantleModels(runtime, ['anthropic.claude-sonnet-4-5', 'anthropic.claude-opus-5-5']);
    // Sonnet 4.5 is the runtime's (dated there): not added again as a mantle-only model.
    expect(mixed.models.filter((m) => m.mantleOnly).map((m) => m.modelId)).toEqual([
      'anthropic.claude-opus-5-5',
    ]);
    expect(resolveModel('claude-sonnet-4-5', mixed, { region: 'us-east-1' })).toMatchObject({
      modelId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      mantleId: 'anthropic.claude-sonnet-4-5',
    });
    expect(resolveModel('claude-sonnet-4-5', mixed, { region: 'us-east-1' }).servedBy).toBeUndefined();
    expect(resolveModel('claude-opus-5-5', mixed, { region: 'us-east-1' })).toMatchObject({
      servedBy: 'mantle',
      mantleId: 'anthropic.claude-opus-5-5',
    });
    // A dated spelling on mantle with another date is another model.
    const otherDate = withMantleModels(runtime, ['anthropic.claude-sonnet-4-5-20990101-v1:0']);
    expect(otherDate.models.filter((m) => m.mantleOnly)).toHaveLength(1);
    expect(resolveModel('claude-sonnet-4-5-20250929', otherDate, { region: 'us-east-1' }).servedBy).toBe(
      'runtime',
    );
    // Another upstream's runtime serving it, under its dated id, makes it not mantle-only in a merge.
    const east = withMantleModels(profileOnly, ['anthropic.claude-haiku-4-5']);
    const west = snapshotOf('us-west-2', [
      { id: 'anthropic.claude-haiku-4-5-20251001-v1:0', profiles: ['us'] },
    ]);
    expect(mergeSnapshots([east, west]).models.some((m) => m.mantleOnly)).toBe(false);
  });
});

/**
 * What a key holder sees through the gateway, shared by the solo (SQLite) and team (DynamoDB) runs:
 * authentication, revocation, model allow-lists, service tiers and their fallbacks. Keys are made the
 * way `abproxy keys create` makes them, through an admin Store that is separate from the server's.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { newKeyRecord } from '../../src/cli/keys.ts';
import type { Store } from '../../src/store/types.ts';
import type { Emulator } from '../helpers/gateway.ts';

export interface KeysWorld {
  url: string;
  emulator: Emulator;
  /** A store on the same data as the gateway's, as another process (the CLI) would open it. */
  admin: Store;
  /** How long a revocation may take to be seen (0: at once). */
  revokeWithinMs: number;
}

const OPEN_MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const CLAUDE = 'claude-sonnet-4-6';

async function call(
  world: KeysWorld,
  key: string | undefined,
  model = OPEN_MODEL,
  auth: 'x-api-key' | 'bearer' = 'x-api-key',
  extra: Record<string, unknown> = {},
) {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': '2023-06-01',
  };
  if (key !== undefined) {
    if (auth === 'bearer') headers.authorization = `Bearer ${key}`;
    else headers['x-api-key'] = key;
  }
  const res = await fetch(`${world.url}/v1/messages`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
  const json = (await res.json()) as { error?: { type: string; message: string } };
  return { status: res.status, headers: res.headers, json };
}

async function createKey(world: KeysWorld, flags: Parameters<typeof newKeyRecord>[0] = {}) {
  const { record, secret } = newKeyRecord(flags, new Date());
  await world.admin.createKey(record);
  return { id: record.id, secret };
}

/** The service tier Bedrock was asked for on each runtime call since the last reset. */
function tiersSent(world: KeysWorld): Array<string | undefined> {
  return world.emulator.requests
    .filter(
      (r) => r.operation !== 'ListFoundationModels' && r.operation !== 'ListInferenceProfiles' && r.modelId,
    )
    .map((r) => {
      const body = r.body as { serviceTier?: { type?: string } } | undefined;
      const header = r.headers['x-amzn-bedrock-service-tier'];
      return body?.serviceTier?.type ?? (typeof header === 'string' ? header : undefined);
    });
}

export function keysScenarios(name: string, world: () => KeysWorld): void {
  describe(`API keys through the gateway (${name})`, () => {
    beforeEach(() => world().emulator.reset());

    it('a created key works from x-api-key and from Authorization: Bearer; an unknown one gets 401', async () => {
      const w = world();
      const { secret } = await createKey(w, { name: 'it' });
      expect((await call(w, secret)).status).toBe(200);
      expect((await call(w, secret, OPEN_MODEL, 'bearer')).status).toBe(200);
      const unknown = await call(w, `${secret.slice(0, -4)}AAAA`);
      expect(unknown.status).toBe(401);
      expect(unknown.json.error?.type).toBe('authentication_error');
      expect((await call(w, undefined)).status).toBe(401);
    });

    it('a revoked key gets 401 authentication_error within the cache time', async () => {
      const w = world();
      const { id, secret } = await createKey(w);
      expect((await call(w, secret)).status).toBe(200);
      expect(await w.admin.revokeKey(id, new Date().toISOString())).toBe('revoked');
      const started = Date.now();
      let res = await call(w, secret);
      while (res.status === 200 && Date.now() - started < w.revokeWithinMs + 2_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        res = await call(w, secret);
      }
      expect(res.status).toBe(401);
      expect(res.json.error).toEqual({
        type: 'authentication_error',
        message: 'this API key has been revoked',
      });
      expect(Date.now() - started).toBeLessThanOrEqual(w.revokeWithinMs + 1_000);
    });

    it('an expired key gets 401', async () => {
      const w = world();
      const { record, secret } = newKeyRecord({}, new Date());
      await w.admin.createKey({ ...record, expiresAt: new Date(Date.now() - 1000).toISOString() });
      const res = await call(w, secret);
      expect(res.status).toBe(401);
      expect(res.json.error?.message).toMatch(/expired/);
    });

    it('a key limited to some models gets 403 permission_error for the others', async () => {
      const w = world();
      const { secret } = await createKey(w, { models: 'qwen.*' });
      expect((await call(w, secret, OPEN_MODEL)).status).toBe(200);
      const refused = await call(w, secret, CLAUDE);
      expect(refused.status).toBe(403);
      expect(refused.json.error?.type).toBe('permission_error');
      expect(w.emulator.requests.filter((r) => r.modelId?.includes('claude'))).toHaveLength(0);
      // count_tokens names a model too: the same rule applies there.
      const counted = await fetch(`${w.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': secret },
        body: JSON.stringify({ model: CLAUDE, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(counted.status).toBe(403);
    });

    it('a key limited to some models is listed only those by /v1/models (what Claude Code offers)', async () => {
      const w = world();
      const { secret } = await createKey(w, { models: 'qwen.*' });
      const get = (path: string, key = secret) =>
        fetch(`${w.url}${path}`, { headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01' } });
      const listed = (await (await get('/v1/models?limit=1000')).json()) as { data: { id: string }[] };
      expect(listed.data.length).toBeGreaterThan(0);
      expect(listed.data.every((m) => m.id.startsWith('qwen.'))).toBe(true);
      expect((await get(`/v1/models/${encodeURIComponent(OPEN_MODEL)}`)).status).toBe(200);
      const claude = await get(`/v1/models/${CLAUDE}`);
      expect(claude.status).toBe(404);
      expect(((await claude.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
      // An unrestricted key still sees Claude.
      const { secret: open } = await createKey(w);
      const all = (await (await get('/v1/models?limit=1000', open)).json()) as { data: { id: string }[] };
      expect(all.data.some((m) => m.id.startsWith('claude-'))).toBe(true);
    });

    it('a flex key asks Bedrock for flex on an open model, and says so', async () => {
      const w = world();
      const { secret } = await createKey(w, { serviceTier: 'flex' });
      const res = await call(w, secret, OPEN_MODEL);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-abproxy-service-tier')).toBe('flex');
      expect(res.headers.get('x-abproxy-service-tier-fallback')).toBeNull();
      expect(tiersSent(w)).toEqual(['flex']);
    });

    it('a flex key on Claude (no flex tier) runs on default and the headers say it fell back', async () => {
      const w = world();
      const { secret } = await createKey(w, { serviceTier: 'flex' });
      const res = await call(w, secret, CLAUDE);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-abproxy-service-tier')).toBe('default');
      expect(res.headers.get('x-abproxy-service-tier-fallback')).toBe('flex');
      expect(tiersSent(w)).toEqual([undefined]);
    });

    it("a caller's service_tier 'standard_only' keeps a priority key off priority; 'auto' does not", async () => {
      const w = world();
      const { secret } = await createKey(w, { serviceTier: 'priority' });
      const standard = await call(w, secret, OPEN_MODEL, 'x-api-key', { service_tier: 'standard_only' });
      expect(standard.status).toBe(200);
      expect(standard.headers.get('x-abproxy-service-tier')).toBe('default');
      expect(standard.headers.get('x-abproxy-service-tier-fallback')).toBeNull();
      expect((await call(w, secret, OPEN_MODEL, 'x-api-key', { service_tier: 'auto' })).status).toBe(200);
      expect(tiersSent(w)).toEqual([undefined, 'priority']);
      // Anthropic's API takes no other name; Bedrock's own ('priority') is refused, not silently ignored.
      const named = await call(w, secret, OPEN_MODEL, 'x-api-key', { service_tier: 'priority' });
      expect(named.status).toBe(400);
      expect(named.json.error?.message).toBe("service_tier: Input should be 'auto' or 'standard_only'");
      expect(tiersSent(w)).toHaveLength(2);
    });

    it('when Bedrock rejects the tier at run time, the call is retried once on default', async () => {
      const w = world();
      const { secret } = await createKey(w, { serviceTier: 'priority' });
      w.emulator.enqueue({
        error: {
          name: 'ValidationException',
          message: 'The provided service tier (priority) is not supported for this model.',
        },
      });
      const res = await call(w, secret, OPEN_MODEL);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-abproxy-service-tier')).toBe('default');
      expect(res.headers.get('x-abproxy-service-tier-fallback')).toBe('priority');
      expect(tiersSent(w)).toEqual(['priority', undefined]);
    });

    it('other validation errors are not retried', async () => {
      const w = world();
      const { secret } = await createKey(w, { serviceTier: 'flex' });
      w.emulator.enqueue({ error: { name: 'ValidationException', message: 'Malformed input request' } });
      const res = await call(w, secret, OPEN_MODEL);
      expect(res.status).toBe(400);
      expect(tiersSent(w)).toEqual(['flex']);
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { ApiError } from '../../anthropic/errors.ts';
import type { Ctx } from './context.ts';
import { router } from './router.ts';

function ctxFor(method: string, path: string): Ctx {
  return {
    req: { method } as Ctx['req'],
    res: {} as Ctx['res'],
    url: new URL(`http://x${path}`),
    requestId: 'req_x',
    log: {} as Ctx['log'],
    params: {},
  };
}

const seen: string[] = [];
const route = router([
  { method: 'POST', path: '/v1/messages', handler: async () => void seen.push('messages') },
  { method: 'GET', path: '/v1/models/:id', handler: async (ctx) => void seen.push(`model ${ctx.params.id}`) },
]);

describe('router', () => {
  it('ignores the query and a trailing slash', async () => {
    await route(ctxFor('POST', '/v1/messages/?beta=true'), async () => {});
    expect(seen.at(-1)).toBe('messages');
  });

  it('lets the last parameter hold slashes and encoded characters (ARNs)', async () => {
    await route(
      ctxFor('GET', '/v1/models/arn:aws:bedrock:us-east-1:1:inference-profile/us.x%3A0'),
      async () => {},
    );
    expect(seen.at(-1)).toBe('model arn:aws:bedrock:us-east-1:1:inference-profile/us.x:0');
  });

  it('answers 404 for unknown paths and 405 with Allow for a wrong method', async () => {
    const notFound = await route(ctxFor('GET', '/v2/x'), async () => {}).catch((e: ApiError) => e);
    expect((notFound as ApiError).status).toBe(404);
    const wrong = await route(ctxFor('DELETE', '/v1/messages'), async () => {}).catch((e: ApiError) => e);
    expect((wrong as ApiError).status).toBe(405);
    expect((wrong as ApiError).headers.allow).toBe('POST');
  });
});

/**
 * A catalogue refresh that cannot reach Bedrock (endpoint down, no credentials) is one warning line:
 * what failed, which upstream, the error and its code; the stack only when the log level is debug.
 */
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/http/server.ts';
import { parseUpstreams } from '../../src/upstream/upstreams.ts';
import { MASTER_KEY, testConfig } from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';

/** Port 9 (discard): nothing listens there (a port freed by a test could be taken by another at once). */
const DOWN = 'http://127.0.0.1:9';

/** Starts a gateway whose only upstream's control plane is down, asks for the models, returns its log lines. */
async function refreshLog(level: 'info' | 'debug'): Promise<Record<string, unknown>[]> {
  const { logger, lines } = capturedLog(level);
  const upstreams = parseUpstreams(
    [
      {
        name: 'east',
        region: 'us-east-1',
        endpoint: DOWN,
        controlEndpoint: DOWN,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' },
      },
    ],
    'ABPROXY_UPSTREAMS',
  );
  const gateway = await startServer(testConfig({ upstreams }), { logger });
  try {
    const res = await fetch(`${gateway.url}/v1/models`, { headers: { 'x-api-key': MASTER_KEY } });
    // The built-in Claude table stands in: the listing still answers.
    expect(res.status).toBe(200);
    await res.text();
    for (let i = 0; i < 200 && !lines.some((l) => l.msg === 'Bedrock model catalogue refresh failed'); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await gateway.close();
  }
  return lines.filter((l) => l.msg === 'Bedrock model catalogue refresh failed');
}

describe('catalogue refresh failure warning', () => {
  it('is one line: upstream, region, error and code, no stack', { timeout: 30_000 }, async () => {
    const warnings = await refreshLog('info');
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    const line = warnings[0]!;
    expect(line).toMatchObject({
      level: 40,
      upstream: 'east',
      region: 'us-east-1',
      error: expect.stringMatching(/^Error: connect ECONNREFUSED 127\.0\.0\.1:9$/),
      code: 'ECONNREFUSED',
    });
    expect(line).not.toHaveProperty('err');
    expect(JSON.stringify(line)).not.toMatch(/\n\s+at /);
  });

  it('carries the whole error with its stack at debug', { timeout: 30_000 }, async () => {
    const [line] = await refreshLog('debug');
    expect(line).toMatchObject({ upstream: 'east', code: 'ECONNREFUSED' });
    expect((line!.err as { stack?: string }).stack).toMatch(/ECONNREFUSED[\s\S]*\n\s+at /);
  });
});

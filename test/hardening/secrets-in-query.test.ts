/**
 * A key put in the query string by a careless client (`?key=…`) stays out of the logs, at debug level
 * too, where every request gets a line: the line names the path only.
 */
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../src/auth/key-format.ts';
import { startServer } from '../../src/server/http/server.ts';
import { MASTER_KEY, postMessages, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';

describe('secrets in the query string', () => {
  it('are not written to the request log', async () => {
    const emulator = await startBedrockEmulator();
    const { logger, lines } = capturedLog('debug');
    const gateway = await startServer(testConfig(), { logger });
    const secret = generateKey(); // made here: no key-shaped literal in the tree
    try {
      const models = await fetch(`${gateway.url}/v1/models?key=${secret}`, {
        headers: { 'x-api-key': MASTER_KEY },
      });
      expect(models.status).toBe(200);
      const wrong = await fetch(`${gateway.url}/v1/models?api_key=${MASTER_KEY}`);
      expect(wrong.status).toBe(401);
      const res = await postMessages(
        `${gateway.url}`,
        JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      );
      expect(res.status).toBe(200);
      const requestLines = lines.filter((line) => line.msg === 'request');
      expect(requestLines.length).toBeGreaterThanOrEqual(2);
      expect(requestLines[0]).toMatchObject({ path: '/v1/models', status: 200 });
      const all = JSON.stringify(lines);
      expect(all).not.toContain(secret);
      expect(all).not.toContain(MASTER_KEY);
    } finally {
      await gateway.close();
      await emulator.close();
    }
  });
});

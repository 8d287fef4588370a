/**
 * mantle's model list read from a real HTTP server: the ids it lists, and a hostile or broken host
 * (an endless or huge list, a stall) refused within bounds instead of held in memory.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_LIST_BYTES, mantleModelLister } from './mantle-models.ts';

let server: Server;
let url = '';
let answer: (res: ServerResponse, req: IncomingMessage) => void = () => {};
let sent = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.on('error', () => {});
    answer(res, req);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  sent = 0;
});

const list = (timeoutMs = 5000, bearerToken?: string) =>
  mantleModelLister({
    endpoint: url,
    credentials: async () => ({ accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' }),
    timeoutMs,
    ...(bearerToken === undefined ? {} : { bearerToken }),
  })('us-east-1');

/** A 200 whose list never ends: 64 KB pieces for as long as the client reads. */
function endlessList(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"data":[');
  const piece = Buffer.from('{"id":"anthropic.claude-opus-9-9"},'.repeat(1900));
  const pump = () => {
    while (!res.destroyed) {
      sent += piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
  };
  pump();
}

describe('mantleModelLister', () => {
  it("reads the ids of mantle's list", async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'anthropic.claude-opus-5-5' }, { id: 'openai.gpt-oss-120b' }] }));
    };
    expect(await list()).toEqual(['anthropic.claude-opus-5-5', 'openai.gpt-oss-120b']);
  });

  it('refuses a list larger than its cap without reading the rest', async () => {
    answer = endlessList;
    await expect(list(30_000)).rejects.toThrow(/larger than 4 MB/);
    // The call was released near the cap, not read until the timeout.
    expect(sent).toBeLessThan(MAX_LIST_BYTES * 8);
  }, 60_000);

  it("never carries the gateway's Bedrock API key in its error when the host echoes it", async () => {
    const key = 'ABSKQmVkcm9ja0FQSUtleS1zZWNyZXQtdmFsdWU=';
    let echoed = '';
    answer = (res, req) => {
      echoed = req.headers.authorization ?? '';
      res.writeHead(403, { 'content-type': 'application/json' });
      // A proxy that echoes what it was sent: the header, and the key alone.
      res.end(JSON.stringify({ message: `invalid token: ${echoed} (${echoed.slice('Bearer '.length)})` }));
    };
    const err = (await list(5000, key).catch((e: unknown) => e)) as Error & { $response: { body: string } };
    expect(echoed).toBe(`Bearer ${key}`);
    expect(err.message).toBe('invalid token: [redacted] ([redacted])');
    expect(`${err.message} ${err.stack} ${err.$response.body}`).not.toContain(key);
  });

  it("keeps an error's own words about a bearer token", async () => {
    answer = (res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'Bearer Token has expired' }));
    };
    await expect(list(5000, 'ABSKQmVkcm9ja0FQSUtleS1zZWNyZXQtdmFsdWU=')).rejects.toThrow(
      /^Bearer Token has expired$/,
    );
  });

  it('gives up on a host that stalls', async () => {
    answer = () => {};
    await expect(list(300)).rejects.toThrow(/timeout|aborted/i);
  });
});

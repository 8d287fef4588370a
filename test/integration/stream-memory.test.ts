/**
 * What a streamed answer keeps in memory while it runs. A Claude Code request is hundreds of kB of text
 * (system prompt, tools, history), and a team's gateway holds many such streams for minutes: the
 * request's text must be free once Bedrock has it, not kept until the answer ends. Ten streams with a
 * 1 MB prompt each are held open; the gateway's JS heap (the prompt's strings live there) must not hold
 * them, nor the copy of the Bedrock request's bytes undici wrote (buffers, outside the JS heap). The
 * emulator runs in its own process, so its copies of the prompts do not count.
 */

import { Agent, request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { takeGc } from '../../src/cli/serve-tuning.ts';
import { MASTER_KEY, startGateway } from '../helpers/gateway.ts';
import { ROOT, type Spawned, spawnProcess } from '../helpers/process.ts';

const STREAMS = 10;
const PROMPT_CHARS = 1024 * 1024;
let emulator: Spawned;
let emulatorUrl: string;
let gateway: Awaited<ReturnType<typeof startGateway>>;
const agent = new Agent({ connections: STREAMS + 2 });

beforeAll(async () => {
  emulator = spawnProcess(process.execPath, ['test/emulator/main.ts', '--port', '0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '' },
  });
  emulatorUrl = (await emulator.waitFor(/"url":"([^"]+)"/))[1]!;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulatorUrl,
    AWS_ENDPOINT_URL_BEDROCK: emulatorUrl,
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  gateway = await startGateway();
}, 30_000);

afterAll(async () => {
  await gateway?.server.close();
  await agent.close();
  await emulator?.stop();
});

async function script(turns: unknown[]) {
  const res = await request(`${emulatorUrl}/__emulator/script`, {
    method: 'POST',
    dispatcher: agent,
    body: JSON.stringify(turns),
  });
  await res.body.text();
}

/** A streamed call with a big prompt (a Buffer: the client's copy is not in the JS heap); resolves at its first bytes. */
async function openStream(prompt: Buffer) {
  const res = await request(`${gateway.url}/v1/messages`, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'content-type': 'application/json',
      'x-api-key': MASTER_KEY,
      'anthropic-version': '2023-06-01',
    },
    body: prompt,
  });
  expect(res.statusCode).toBe(200);
  const chunks = res.body[Symbol.asyncIterator]();
  await chunks.next();
  return async () => {
    let text = '';
    for (let next = await chunks.next(); !next.done; next = await chunks.next())
      text += next.value.toString();
    return text;
  };
}

it("a stream does not keep its request's text while it runs", async () => {
  const gc = takeGc();
  const words = Array.from({ length: PROMPT_CHARS / 8 }, (_, i) => `w${(i * 7919) % 1_000_000}`).join(' ');
  const body = (i: number) =>
    Buffer.from(
      JSON.stringify({
        model: 'qwen.qwen3-coder-480b-a35b-v1:0',
        max_tokens: 64,
        stream: true,
        system: `${i} ${words.slice(0, PROMPT_CHARS / 2)}`,
        messages: [{ role: 'user', content: `${i} ${words.slice(PROMPT_CHARS / 2)}` }],
      }),
    );
  const slow = { text: 'abcd'.repeat(20), chunkSize: 4, chunkDelayMs: 100 };
  await script([slow]);
  await (await openStream(body(-1)))();
  const prompts = Array.from({ length: STREAMS }, (_, i) => body(i));
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  const buffersBefore = process.memoryUsage().arrayBuffers;
  await script(Array.from({ length: STREAMS }, () => slow));
  const rests = await Promise.all(prompts.map((prompt) => openStream(prompt)));
  gc();
  gc();
  const perStream = (process.memoryUsage().heapUsed - before) / STREAMS;
  const buffersPerStream = (process.memoryUsage().arrayBuffers - buffersBefore) / STREAMS;
  // Kept, each prompt's text would be ~1 MB a stream (measured 1.1 MB before the fix).
  expect(perStream, `${Math.round(perStream / 1024)} kB of JS heap per stream`).toBeLessThan(
    PROMPT_CHARS / 4,
  );
  // Nor the bytes sent to Bedrock: undici's copy of the request body (~0.9 MB a stream before the fix).
  expect(buffersPerStream, `${Math.round(buffersPerStream / 1024)} kB of buffers per stream`).toBeLessThan(
    PROMPT_CHARS / 4,
  );
  for (const text of await Promise.all(rests.map((rest) => rest()))) expect(text).toContain('message_stop');
}, 60_000);

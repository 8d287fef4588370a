/** `abproxy serve` as a child process, configured by environment only, as the container starts it. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { emulatorAwsEnv } from '../helpers/gateway.ts';
import { ROOT, servingUrl, spawnProcess } from '../helpers/process.ts';

export { ROOT };
export const MASTER_KEY = 'deploy-test-master-key';

export interface ServeProcess {
  proc: ChildProcess;
  /** The URL to call: the printed one, with a wildcard bind replaced by 127.0.0.1. */
  url: Promise<string>;
  exited: Promise<number | null>;
  output(): { stdout: string; stderr: string };
}

/** Env the container would get: master key, region and (here) the emulator's endpoints. */
export function containerEnv(
  emulatorUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: mkdtempSync(join(tmpdir(), 'abproxy-deploy-home-')),
    ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-deploy-')),
    MASTER_API_KEY: MASTER_KEY,
    ...emulatorAwsEnv(emulatorUrl),
    LOG_LEVEL: 'error',
    ...extra,
  };
}

/** Spawns `node <args>` (args[0] is the script) with exactly `env`. */
export function spawnServe(args: string[], env: Record<string, string>): ServeProcess {
  const serve = spawnProcess(process.execPath, args, { env, cwd: ROOT });
  const url = servingUrl(serve);
  url.catch(() => {});
  return { proc: serve.proc, url, exited: serve.exited.then(({ code }) => code), output: serve.output };
}

/** One streamed /v1/messages call, read to the end: the SSE event names and the text it carried. */
export async function streamMessage(
  base: string,
  model: string,
  onFirstEvent: () => void = () => {},
): Promise<{ status: number; events: string[]; text: string }> {
  const res = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': MASTER_KEY,
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({
      model,
      max_tokens: 200,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
  const events: string[] = [];
  let text = '';
  if (!res.body) return { status: res.status, events, text };
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (name) {
        if (events.length === 0) onFirstEvent();
        events.push(name);
      }
      if (name === 'content_block_delta' && data) text += JSON.parse(data).delta?.text ?? '';
      end = buffer.indexOf('\n\n');
    }
  }
  return { status: res.status, events, text };
}

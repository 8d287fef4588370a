/**
 * A client that leaves while sending its body (a network blip, Ctrl-C during an upload) is not the
 * gateway's fault: counted as 499, logged at debug level at most — never an error-level "unhandled
 * error" line with a stack, never a 500 in the metrics an operator alerts on.
 */
import net from 'node:net';
import { expect, it } from 'vitest';
import { gatewayWithEmulator, MASTER_KEY, postMessages } from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';

const { logger, lines } = capturedLog('info');
const running = gatewayWithEmulator({}, { logger });

/** Sends the headers and part of a 1,000-byte body, then drops the connection (`reset`: RST, else FIN). */
function leaveMidBody(path: string, reset: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(running.gateway.port, '127.0.0.1', () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${MASTER_KEY}\r\nanthropic-version: 2023-06-01\r\n` +
          'content-type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":',
      );
      setTimeout(() => (reset ? socket.resetAndDestroy() : socket.end()), 150);
    });
    socket.on('error', () => {});
    socket.resume(); // whatever the gateway answers is read, so the socket can close
    socket.on('close', () => resolve());
  });
}

const requestsByStatus = async () => {
  const text = await fetch(`${running.gateway.url}/metrics`).then((r) => r.text());
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^abproxy_requests_total\{.*status="(\d+)".*\} (\d+)/.exec(line);
    if (match) counts[match[1]!] = (counts[match[1]!] ?? 0) + Number(match[2]);
  }
  return counts;
};

it('counts a client that drops mid-body as 499, with no error-level log line', async () => {
  await leaveMidBody('/v1/messages', true);
  await leaveMidBody('/v1/messages', false);
  await leaveMidBody(`/model/${encodeURIComponent('qwen.qwen3-coder-480b-a35b-v1:0')}/converse`, true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const counts = await requestsByStatus();
  expect(counts['500']).toBeUndefined();
  expect(counts['499']).toBe(3);
  expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  // The gateway goes on serving.
  running.emulator.enqueue({ text: 'still here' });
  const res = await postMessages(
    running.gateway.url,
    JSON.stringify({
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  );
  expect(res.status).toBe(200);
});

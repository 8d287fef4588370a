/**
 * `abproxy serve` on a TLS Bedrock endpoint that prefers HTTP/2, as Bedrock does. With the default
 * ABPROXY_UPSTREAM_HTTP=1.1 every runtime call must go over HTTP/1.1: undici offers h2 in TLS's ALPN
 * unless told not to, and such a server would then carry the calls on undici's h2 client, a path
 * nothing else here runs. With `2` the calls go over HTTP/2 (the AWS SDK). Both answer, streamed or not.
 * The endpoint is a TLS front (a throw-away certificate, trusted through NODE_EXTRA_CA_CERTS as an
 * operator would) that records each call's HTTP version and passes it on to the emulator.
 */
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator } from '../emulator/server.ts';
import { answerText, type Emulator, hiBody, postMessages, serveOnEmulator } from '../helpers/gateway.ts';
import { hasOpenssl, type ThrowAwayCertificate, throwAwayCertificate } from '../helpers/tls.ts';

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2), and pseudo-headers, which HTTP/1.1 cannot carry. */
const connectionSpecific = /^(:|connection$|keep-alive$|transfer-encoding$|upgrade$|proxy-connection$)/;
const passable = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !connectionSpecific.test(name)));

describe.runIf(hasOpenssl())('a TLS Bedrock endpoint that prefers HTTP/2', () => {
  let emulator: Emulator;
  let certificate: ThrowAwayCertificate | undefined;
  let front: http2.Http2SecureServer;
  let emulatorH2: http2.ClientHttp2Session;
  let frontUrl: string;
  const versions: string[] = [];

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    certificate = throwAwayCertificate();
    const tls = { key: certificate.key, cert: certificate.cert };
    // Node's HTTP/2 server with HTTP/1.1 allowed chooses h2 when the client offers it. Each call goes on
    // to the emulator in its own HTTP version: the signature covers the host (`host`, or `:authority`
    // over HTTP/2) the gateway called, passed on unchanged.
    emulatorH2 = http2.connect(emulator.url);
    front = http2.createSecureServer({ ...tls, allowHTTP1: true }, (req, res) => {
      versions.push(req.httpVersion);
      const answer = (status: number, headers: http.IncomingHttpHeaders, body: NodeJS.ReadableStream) => {
        res.writeHead(status, passable(headers));
        body.pipe(res);
      };
      if (req.httpVersion === '2.0') {
        const onward = emulatorH2.request({
          ...passable(req.headers),
          ':method': req.method,
          ':path': req.url,
          ':authority': req.headers[':authority'],
        });
        onward.on('response', (headers) => answer(Number(headers[':status']), headers, onward));
        onward.on('error', () => res.destroy());
        req.pipe(onward);
        return;
      }
      const onward = http.request(
        `${emulator.url}${req.url}`,
        { method: req.method, headers: passable(req.headers) },
        (reply) => answer(reply.statusCode ?? 502, reply.headers, reply),
      );
      onward.on('error', () => res.destroy());
      req.pipe(onward);
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', () => resolve()));
    frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
  }, 30_000);

  afterAll(async () => {
    emulatorH2?.close();
    await new Promise<void>((resolve) => front?.close(() => resolve()));
    await emulator?.close();
    certificate?.remove();
  });

  const gatewayOn = (upstreamHttp: '1.1' | '2') =>
    serveOnEmulator(
      { url: emulator.url },
      {
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: frontUrl,
        NODE_EXTRA_CA_CERTS: certificate!.certPath,
        ABPROXY_UPSTREAM_HTTP: upstreamHttp,
      },
    );

  const calls = [
    ['qwen.qwen3-coder-480b-a35b-v1:0', false],
    ['qwen.qwen3-coder-480b-a35b-v1:0', true],
    ['claude-sonnet-4-5', false],
    ['claude-sonnet-4-5', true],
  ] as const;

  it.each([
    ['1.1', '1.1'],
    ['2', '2.0'],
  ] as const)(
    'ABPROXY_UPSTREAM_HTTP=%s: every call answers, carried over HTTP %s',
    async (setting, version) => {
      const { serve, url } = await gatewayOn(setting);
      try {
        versions.length = 0;
        for (const [model, stream] of calls) {
          emulator.enqueue({ text: `over TLS ${model} ${stream}` });
          expect(await answerText(await postMessages(url, hiBody(model, stream)), stream)).toBe(
            `over TLS ${model} ${stream}`,
          );
        }
        expect(versions).toEqual(calls.map(() => version));
      } finally {
        await serve.stop();
      }
    },
    60_000,
  );
});

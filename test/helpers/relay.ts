/** Forwarding for stand-ins put in front of the emulator (a TLS front, a connection-dropping endpoint). */
import http from 'node:http';

/** Sends `req` on to the same path under `base` and pipes the answer back to `res` as it comes. */
export function relay(base: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const onward = http.request(`${base}${req.url}`, { method: req.method, headers: req.headers }, (reply) => {
    res.writeHead(reply.statusCode ?? 502, reply.headers);
    reply.pipe(res);
  });
  onward.on('error', () => res.destroy());
  req.pipe(onward);
}

import type { ServerResponse } from 'node:http';

/** Sends a JSON body with its length; headers set earlier (request-id) are kept. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * A client-influenced value (a model name) as a header value: node throws on characters outside
 * latin1 and on controls, so anything but printable ASCII becomes `?`.
 */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

export interface DrainOptions {
  /**
   * Longest wait (0: none). A client that takes no bytes for this long is cut (its response destroyed,
   * so its upstream call is aborted and the request is recorded as the client's leaving): a stalled
   * reader would otherwise hold its Bedrock call, and a pooled upstream connection, for as long as it
   * likes, and a few thousand of them starve every other caller.
   */
  stallMs?: number;
  /** Told when a stalled client was cut (for the log). */
  onStall?: (stallMs: number) => void;
}

/** Resolves when `res` can take more, or the client left, or `signal` aborted (backpressure for a pump). */
export function drained(res: ServerResponse, signal: AbortSignal, options: DrainOptions = {}): Promise<void> {
  return new Promise((resolve) => {
    const stallMs = options.stallMs ?? 0;
    const timer =
      stallMs > 0
        ? setTimeout(() => {
            done();
            options.onStall?.(stallMs);
            res.destroy();
          }, stallMs)
        : undefined;
    function done() {
      clearTimeout(timer);
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    }
    res.on('drain', done);
    res.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Reading HTTP/2 (h2c) answers in tests. */
import type http2 from 'node:http2';

export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  text: string;
  /** The RST_STREAM code the stream closed with (0: NO_ERROR). */
  rstCode: number | undefined;
}

/**
 * One stream's answer, read to the stream's close: status, headers, body text and reset code. A stream
 * error rejects unless `resetExpected` (a test that has the server reset the stream).
 */
export function h2Answer(stream: http2.ClientHttp2Stream, resetExpected = false): Promise<H2Answer> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      headers = h;
    });
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('error', (err) => {
      if (!resetExpected) reject(err);
    });
    stream.on('close', () =>
      resolve({ status: Number(headers[':status']), headers, text, rstCode: stream.rstCode }),
    );
  });
}

/**
 * `Expect: 100-continue`: the client holds its body back until told to send it. Node would say
 * "continue" before any handler runs, so a 30 MB upload with a wrong key or a declared size over the
 * limit was sent whole only to be refused. Here the interim answer waits until a handler first reads
 * the body, that is once the host, key, limits and declared size have passed; a request refused before
 * then gets its final answer with no 100, and node closes the connection after it (bytes the client may
 * still send cannot be taken for the next request).
 */
import type { IncomingMessage } from 'node:http';

interface Continuable {
  writeContinue(): void;
}

const held = new WeakMap<object, Continuable>();

/** The request's 100 Continue is sent by `letBodyCome` rather than at once. */
export function holdContinue(req: object, res: Continuable): void {
  held.set(req, res);
}

/** Sends the held 100 Continue, if any: the handler is about to read the body. */
export function letBodyCome(req: IncomingMessage): void {
  const res = held.get(req);
  if (res === undefined) return;
  held.delete(req);
  res.writeContinue();
}

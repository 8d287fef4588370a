import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger.ts';

/** Per-request state shared by the middlewares and the route handler. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** `req_…`, sent back as `request-id` and `x-request-id`. */
  requestId: string;
  log: Logger;
  /** Path parameters of the matched route. */
  params: Record<string, string>;
}

export type Next = () => Promise<void>;
export type Middleware = (ctx: Ctx, next: Next) => Promise<void>;
export type Handler = (ctx: Ctx) => Promise<void>;

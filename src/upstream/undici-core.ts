/**
 * The parts of undici the Bedrock transport uses — Pool, its connector, DecoratorHandler and the request
 * API on every dispatcher — without undici's index, which loads ~80 more modules (fetch, WebSocket,
 * EventSource, cache storage, mock and proxy agents): ~25 ms of `serve`'s start-up. The request API is attached to
 * Dispatcher.prototype as the index does (`pool.request()` is undici's own; the index, when something
 * else loads it, attaches the same functions again). undici's package has no `exports` map: these paths
 * are its files (typed in undici-parts.d.ts; undici-core.test.ts checks they are the index's own).
 */
import api from 'undici/lib/api/index.js';
import buildConnector from 'undici/lib/core/connect.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import DecoratorHandler from 'undici/lib/handler/decorator-handler.js';

Object.assign(Dispatcher.prototype, api);

export { buildConnector, DecoratorHandler, Pool };

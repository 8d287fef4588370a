import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as undici from 'undici';
import { describe, expect, it } from 'vitest';
import { buildConnector, DecoratorHandler, Pool } from './undici-core.ts';

describe('undici-core', () => {
  it("is undici's own Pool, connector and DecoratorHandler, from its files", () => {
    expect(Pool).toBe(undici.Pool);
    expect(buildConnector).toBe(undici.buildConnector);
    expect(DecoratorHandler).toBe(undici.DecoratorHandler);
  });

  it("gives a pool (and a composed one) undici's request API without loading undici's index", () => {
    const core = pathToFileURL(join(import.meta.dirname, 'undici-core.ts')).href;
    const script = `import http from 'node:http';
import { createRequire } from 'node:module';
import { Pool } from ${JSON.stringify(core)};
const server = http.createServer((req, res) => res.end('answer to ' + req.url));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const pool = new Pool('http://127.0.0.1:' + server.address().port);
const composed = pool.compose((dispatch) => (opts, handler) => dispatch(opts, handler));
const plain = await (await pool.request({ method: 'GET', path: '/plain' })).body.text();
const viaCompose = await (await composed.request({ method: 'GET', path: '/composed' })).body.text();
await pool.close();
server.close();
const loaded = Object.keys(createRequire(import.meta.url).cache);
process.stdout.write(JSON.stringify({ plain, viaCompose, index: loaded.filter((f) => /undici[\\\\/]index\\.js$/.test(f)) }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({
      plain: 'answer to /plain',
      viaCompose: 'answer to /composed',
      index: [],
    });
  });
});

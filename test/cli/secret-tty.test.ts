/**
 * A secret given as `-` on a terminal is typed or pasted without being shown: the screen and its
 * scroll-back never hold it (a real terminal, in tmux).
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { hasTmux, Terminal } from '../e2e/tmux.ts';
import { tempHome } from './cli-helpers.ts';

const BIN = join(import.meta.dirname, '../../bin/abproxy.js');
let terminal: Terminal | undefined;
afterEach(() => terminal?.kill());

describe.skipIf(!hasTmux())('a secret read from a terminal', () => {
  it('is not echoed, and is stored as typed', async () => {
    const home = tempHome();
    terminal = new Terminal();
    terminal.start(
      `sh -c 'HOME=${home} ABPROXY_HOME=${home} ${process.execPath} ${BIN} config set masterApiKey -; echo "DONE-$?"; sleep 60'`,
    );
    await terminal.waitFor('it is not shown');
    const secret = 'very-secret-master-key-42';
    terminal.type(secret, 'Enter');
    const screen = await terminal.waitFor('DONE-0', { forbidden: [secret] });
    expect(screen).not.toContain(secret);
    expect(loadConfig({ env: { ABPROXY_HOME: home } }).masterApiKey).toBe(secret);
  }, 60_000);
});

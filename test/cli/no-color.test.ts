/**
 * NO_COLOR (https://no-color.org): on a terminal, what ink draws (tables, spinners, the serve dashboard)
 * carries no colour or style escape once it is set. A real terminal: util-linux `script` gives the CLI a pty.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, root, tempHome } from './cli-helpers.ts';

const hasScript = spawnSync('script', ['--version']).status === 0;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escapes under test
const SGR = /\x1b\[[0-9;]*m/;

function onTerminal(args: string[], env: Record<string, string>): string {
  const command = [process.execPath, join(root, 'bin/abproxy.js'), ...args].join(' ');
  return execFileSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8', timeout: 30_000 });
}

describe.skipIf(!hasScript)('NO_COLOR on a terminal', () => {
  it('keys list draws its table without colour or style escapes', { timeout: 60_000 }, () => {
    const home = tempHome();
    const env = { ...cliEnv(home, 'http://127.0.0.1:9'), TERM: 'xterm-256color' };
    execFileSync(process.execPath, [join(root, 'bin/abproxy.js'), 'keys', 'create', '--name', 'ci'], { env });
    // The same table styles its header without NO_COLOR: the check below can see escapes.
    expect(onTerminal(['keys', 'list'], env)).toMatch(SGR);
    const plain = onTerminal(['keys', 'list'], { ...env, NO_COLOR: '1' });
    expect(plain).toContain('ci');
    expect(plain).not.toMatch(SGR);
  });
});

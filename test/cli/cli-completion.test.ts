/**
 * Shell completions: the checked-in files are exactly what the command tree generates (so they never
 * drift), and bash really completes with them (sourced into bash, driven through compgen).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandSpecs, completionScript, SHELLS } from '../../src/cli/completion.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { root, runCli, tempHome } from './cli-helpers.ts';

/** What bash offers for the words typed so far (the last word is the one being completed). */
function bashComplete(...words: string[]): string[] {
  const script = `
source ${JSON.stringify(join(root, 'completions/abproxy.bash'))}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})
COMP_CWORD=${words.length - 1}
_abproxy
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('completion scripts', () => {
  it.each(SHELLS)('completions/abproxy.%s matches the command tree (run `npm run completions`)', (shell) => {
    const checkedIn = readFileSync(join(root, `completions/abproxy.${shell}`), 'utf8');
    expect(checkedIn).toBe(completionScript(buildProgram(), shell));
  });

  it('`abproxy completion bash` prints the generated script', async () => {
    const run = await runCli(['completion', 'bash'], {
      PATH: process.env.PATH ?? '',
      ABPROXY_HOME: tempHome(),
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(readFileSync(join(root, 'completions/abproxy.bash'), 'utf8'));
    const bad = await runCli(['completion', 'tcsh'], {
      PATH: process.env.PATH ?? '',
      ABPROXY_HOME: tempHome(),
    });
    expect(bad.code).toBe(2);
  });

  it('covers every command and option in the tree', () => {
    const bash = completionScript(buildProgram(), 'bash');
    for (const spec of commandSpecs(buildProgram())) {
      for (const sub of spec.subcommands) expect(bash).toContain(sub.name);
      for (const option of spec.options) for (const name of option.names) expect(bash).toContain(name);
    }
  });
});

describe('bash completion', () => {
  const hasKeys = buildProgram().commands.some((c) => c.name() === 'keys');

  it.skipIf(!hasKeys)('completes a command name: abproxy ke → keys', () => {
    expect(bashComplete('abproxy', 'ke')).toEqual(['keys']);
  });

  it('completes commands and subcommands', () => {
    expect(bashComplete('abproxy', 'mo')).toEqual(['models']);
    expect(bashComplete('abproxy', 'co').sort()).toEqual(['completion', 'config']);
    expect(bashComplete('abproxy', 'config', 's')).toEqual(['set']);
  });

  it('completes options of the command being typed: abproxy serve --p → --port', () => {
    expect(bashComplete('abproxy', 'serve', '--p')).toContain('--port');
    expect(bashComplete('abproxy', 'serve', '--p')).not.toContain('--model');
    expect(bashComplete('abproxy', 'claude', '--model', 'qwen', '--sm')).toEqual(['--small-model']);
  });

  it('completes argument choices and leaves option values alone', () => {
    expect(bashComplete('abproxy', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete('abproxy', 'serve', '--port', '')).toEqual([]);
    // A value that happens to be a command name is still a value, not a command.
    expect(bashComplete('abproxy', 'claude', '--model', 'models', '--cl')).toEqual(['--claude-bin']);
  });
});

/**
 * Writes completions/abproxy.{bash,zsh,fish} from the command tree (`npm run completions`).
 * test/cli/cli-completion.test.ts fails when the checked-in files differ from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { completionScript, SHELLS } from '../src/cli/completion.ts';
import { buildProgram } from '../src/cli/main.ts';

for (const shell of SHELLS) {
  const file = join(import.meta.dirname, `abproxy.${shell}`);
  writeFileSync(file, completionScript(buildProgram(), shell));
  process.stdout.write(`wrote ${file}\n`);
}

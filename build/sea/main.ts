/** Entry of the single executable: the CLI itself, no launcher (the Node version is the one embedded). */
import { main } from '../../src/cli/main.ts';

// A SEA's argv is [executable, executable, ...args] like `node script ...args`, so commander's default
// applies. No top-level await: a SEA's main script is CommonJS. main() exits the process itself.
void main(process.argv);

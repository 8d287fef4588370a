/** Where the usage spool lives; its own module so the CLI can find it without loading the server. */
import { join } from 'node:path';
import type { Config } from '../config/config.ts';

export function spoolDir(config: Pick<Config, 'home'>): string {
  return join(config.home, 'spool');
}

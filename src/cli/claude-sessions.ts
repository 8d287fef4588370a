/**
 * Claude Code's conversations, as files it keeps: `<config dir>/projects/<project>/<session id>.jsonl`
 * (the config dir is CLAUDE_CONFIG_DIR, else ~/.claude). Read only to tell the user which session a run
 * left, so that it can be resumed through the gateway; an unknown layout yields nothing.
 */
import { readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from './claude-env.ts';

/** The ids of the sessions whose files were written at or after `sinceMs`. */
export function sessionsWrittenSince(env: Env, sinceMs: number): string[] {
  const projects = join(env.CLAUDE_CONFIG_DIR || join(env.HOME || homedir(), '.claude'), 'projects');
  const ids: string[] = [];
  for (const project of entries(projects)) {
    for (const file of entries(join(projects, project))) {
      if (!file.endsWith('.jsonl')) continue;
      try {
        if (statSync(join(projects, project, file)).mtimeMs >= sinceMs) ids.push(file.slice(0, -6));
      } catch {}
    }
  }
  return ids;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

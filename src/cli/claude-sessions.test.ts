import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sessionsWrittenSince } from './claude-sessions.ts';

function conversation(configDir: string, project: string, id: string, mtimeMs: number): void {
  mkdirSync(join(configDir, 'projects', project), { recursive: true });
  const file = join(configDir, 'projects', project, `${id}.jsonl`);
  writeFileSync(file, '{}\n');
  utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
}

describe('sessionsWrittenSince', () => {
  it('names the conversations written since a time, in ~/.claude or CLAUDE_CONFIG_DIR', () => {
    const home = mkdtempSync(join(tmpdir(), 'abproxy-sessions-'));
    const now = Date.now();
    conversation(join(home, '.claude'), '-work-app', 'old-session', now - 60_000);
    conversation(join(home, '.claude'), '-work-app', 'new-session', now + 1000);
    expect(sessionsWrittenSince({ HOME: home }, now)).toEqual(['new-session']);
    const configDir = join(home, 'elsewhere');
    conversation(configDir, '-work-lib', 'other-session', now + 1000);
    expect(sessionsWrittenSince({ HOME: home, CLAUDE_CONFIG_DIR: configDir }, now)).toEqual([
      'other-session',
    ]);
  });

  it('finds nothing where Claude Code kept nothing', () => {
    expect(sessionsWrittenSince({ HOME: join(tmpdir(), 'abproxy-no-such-home') }, 0)).toEqual([]);
  });
});

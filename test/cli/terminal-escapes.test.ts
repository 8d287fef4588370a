/**
 * Client- and admin-chosen strings reach terminals through the CLI (issue 11, item 8): a key named
 * with escape sequences must print as inert text in every form, and --json must keep the same value.
 */
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

const HOSTILE = 'ci\x1b[41mRED\x1b]52;c;aGk=\x07\x9b2J\u202egnp.exe';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters under test
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

describe('CLI output with hostile key names', () => {
  it('keys create/show/list print no control or bidi character, and JSON keeps the value', {
    timeout: 60_000,
  }, async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    const created = await runCli(['keys', 'create', '--name', HOSTILE, '--user', HOSTILE, '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).not.toMatch(UNSAFE);
    const record = JSON.parse(created.stdout) as { id: string; name: string; user: string };
    expect(record.name).toBe(HOSTILE);
    expect(record.user).toBe(HOSTILE);

    for (const args of [
      ['keys', 'show', record.id],
      ['keys', 'list', '--plain'],
      ['keys', 'list', '--json'],
    ]) {
      const out = await runCli(args, env);
      expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(0);
      expect(out.stdout, args.join(' ')).not.toMatch(UNSAFE);
      expect(out.stdout, args.join(' ')).toContain('RED');
    }
    const listed = JSON.parse((await runCli(['keys', 'list', '--json'], env)).stdout) as Array<{
      name: string;
    }>;
    expect(listed[0]?.name).toBe(HOSTILE);
  });

  it('a line feed in a name or user cannot add a line to keys create/show', { timeout: 60_000 }, async () => {
    const home = tempHome();
    const env = cliEnv(home, 'http://127.0.0.1:9');
    const spoof = 'ci\nstatus:       revoked';
    const created = await runCli(['keys', 'create', '--name', spoof, '--user', spoof], env);
    expect(created.code, created.stderr).toBe(0);
    const id = /^id: +(\S+)$/m.exec(created.stdout)![1]!;
    const shown = await runCli(['keys', 'show', id], env);
    for (const out of [created.stdout, shown.stdout]) {
      expect(out.match(/^status:/gm)).toEqual(['status:']);
      expect(out).toContain('name:         ci\\u000astatus:       revoked');
    }
  });
});

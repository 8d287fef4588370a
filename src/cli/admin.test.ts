import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { admin } from './admin.ts';
import { buildProgram } from './main.ts';

describe('abproxy admin --json', () => {
  it('prints the one-time link as one JSON document and opens no browser', async () => {
    const lines: string[] = [];
    const opened: string[] = [];
    const env = { ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-admin-json-')), DISPLAY: ':0' };
    const before = Date.now();
    await admin(
      { url: 'http://gw.example:8080/', json: true },
      { stdout: (line) => lines.push(line), env, platform: 'linux', open: (cmd) => opened.push(cmd) },
    );
    expect(opened).toEqual([]);
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as { url: string; expires_at: string };
    expect(out.url).toMatch(/^http:\/\/gw\.example:8080\/admin#token=[\w.-]+$/);
    const ttl = Date.parse(out.expires_at) - before;
    expect(ttl).toBeGreaterThan(4 * 60_000);
    expect(ttl).toBeLessThanOrEqual(5 * 60_000 + 1000);
  });

  it('refuses a --url that is not an http(s) URL as a usage error', async () => {
    const env = { ABPROXY_HOME: mkdtempSync(join(tmpdir(), 'abproxy-admin-url-')) };
    for (const url of ['notaurl', 'ftp://gw.example']) {
      await expect(admin({ url, json: true }, { stdout: () => {}, env }), url).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(/^--url: expected an http/),
      });
    }
  });

  it('is among the command-line options, as README says of every admin command', () => {
    const command = buildProgram().commands.find((command) => command.name() === 'admin')!;
    expect(command.options.map((option) => option.long)).toContain('--json');
  });
});

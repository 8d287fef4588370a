import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../config/config.ts';
import { checkDeadLetters, checkFileModes } from './doctor.ts';
import { checkProxy } from './doctor-bedrock.ts';

describe('doctor: file permissions', () => {
  it('warns about a home, database and spool others can read, with the chmod that fixes them', () => {
    const home = join(mkdtempSync(join(tmpdir(), 'abproxy-doc-')), "it's home");
    mkdirSync(join(home, 'spool'), { recursive: true });
    chmodSync(home, 0o755);
    for (const name of ['abproxy.db', 'abproxy.db-wal', 'spool/usage-1-ab-0.jsonl']) {
      writeFileSync(join(home, name), '');
      chmodSync(join(home, name), 0o644);
    }
    const config = { home, mode: 'solo' as const, dbFile: undefined };
    const check = checkFileModes(config);
    expect(check.status).toBe('warn');
    expect(check.detail).toContain(`${home} (755)`);
    expect(check.detail).toContain(`${join(home, 'abproxy.db-wal')} (644)`);
    expect(check.detail).toContain(`${join(home, 'spool/usage-1-ab-0.jsonl')} (644)`);
    expect(check.hint).toMatch(/^chmod 700 '.*' && chmod 600 /);
    // The hint is a working shell command.
    execFileSync('sh', ['-c', check.hint!]);
    expect(checkFileModes(config)).toMatchObject({ status: 'ok' });
  });
});

describe('doctor: dead-lettered usage', () => {
  it('says nothing without a dead-letter file and warns with the count when records wait in it', () => {
    const home = mkdtempSync(join(tmpdir(), 'abproxy-doc-'));
    expect(checkDeadLetters({ home })).toBeUndefined();
    mkdirSync(join(home, 'spool'));
    writeFileSync(join(home, 'spool', 'dead-letter.jsonl'), '{"phase":"rejected"}\n{"phase":"rejected"}\n');
    expect(checkDeadLetters({ home })).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^2 usage/),
    });
  });
});

describe('doctor: the outbound proxy', () => {
  const config = { region: 'us-east-1', upstreamHttp: '1.1' } as Config;
  const runtime = 'bedrock-runtime.us-east-1.amazonaws.com';

  it('says Bedrock is reached directly when no proxy is set', () => {
    expect(checkProxy(config, {})).toMatchObject({ status: 'ok', detail: expect.stringMatching(/none/) });
  });

  it('names the proxy the runtime calls go through, never its credentials', () => {
    const check = checkProxy(config, { HTTPS_PROXY: 'http://alice:s3cret@proxy.corp:3128' });
    expect(check.status).toBe('ok');
    expect(check.detail).toBe(`${runtime} through the outbound proxy http://***@proxy.corp:3128`);
    expect(JSON.stringify(check)).not.toContain('s3cret');
  });

  it('says when NO_PROXY sends Bedrock direct', () => {
    const check = checkProxy(config, { HTTPS_PROXY: 'http://proxy.corp:3128', NO_PROXY: '.amazonaws.com' });
    expect(check.detail).toBe(`${runtime} directly: NO_PROXY names it (NO_PROXY: .amazonaws.com)`);
  });

  it('fails on a proxy it cannot use, and on the HTTP/2 transport behind a proxy', () => {
    expect(checkProxy(config, { HTTPS_PROXY: 'socks5://proxy.corp:1080' }).status).toBe('fail');
    const h2 = checkProxy({ ...config, upstreamHttp: '2' } as Config, {
      HTTPS_PROXY: 'http://u:p@proxy.corp:3128',
    });
    expect(h2.status).toBe('fail');
    expect(JSON.stringify(h2)).not.toContain('u:p@');
  });
});

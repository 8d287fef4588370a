import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { endingWithUs } from './parent-death.ts';

describe('endingWithUs', () => {
  it('runs the command as it is off Linux', () => {
    expect(endingWithUs('/opt/claude', ['-p', 'hi'], { PATH: '/usr/bin' }, 'darwin')).toEqual({
      command: '/opt/claude',
      args: ['-p', 'hi'],
    });
  });

  it('runs the command as it is under a setpriv too old for --pdeathsig (it would refuse the option)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'abproxy-old-setpriv-'));
    writeFileSync(join(dir, 'setpriv'), '#!/bin/sh\necho "Usage: setpriv [options] <program>"\n');
    chmodSync(join(dir, 'setpriv'), 0o755);
    expect(endingWithUs('/opt/claude', ['-p'], { PATH: dir }, 'linux')).toEqual({
      command: '/opt/claude',
      args: ['-p'],
    });
  });
});

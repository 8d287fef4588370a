/**
 * A terminal a test can type into and read, as a person sees it: one tmux session on a private tmux
 * server (its own socket, so a developer's own tmux is never touched), started with a clean environment.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  /** Texts that must never be on screen while waiting: the wait fails at once if one shows. */
  forbidden?: readonly string[];
}

export class Terminal {
  readonly socket = `abproxy-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  readonly name = 'main';
  /** Every distinct screen seen, in order (for the failure message and the saved artifact). */
  readonly screens: string[] = [];

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      // The server tmux starts inherits this, and the shell inherits the server's: nothing of ours.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'xterm-256color', LANG: 'C.UTF-8' },
    });
  }

  /** Starts `command` (e.g. an interactive shell) in a cols × rows terminal. */
  start(command: string, cols = 150, rows = 45): void {
    this.tmux(['new-session', '-d', '-s', this.name, '-x', String(cols), '-y', String(rows), command]);
  }

  /** Types literal text (no key names), then the given keys (`Enter`, `Up`, `Escape`, `C-c`). */
  type(text: string, ...keys: string[]): void {
    if (text) this.tmux(['send-keys', '-t', this.name, '-l', text]);
    if (keys.length > 0) this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  keys(...keys: string[]): void {
    this.type('', ...keys);
  }

  /** The screen and 200 lines of scroll-back, wrapped lines joined. */
  capture(): string {
    const screen = this.tmux(['capture-pane', '-p', '-J', '-S', '-200', '-t', this.name]);
    if (this.screens.at(-1) !== screen) this.screens.push(screen);
    return screen;
  }

  /** Polls the screen every 0.5 s until `expected` is on it; throws with the screen otherwise. */
  async waitFor(expected: string | RegExp, options: WaitOptions = {}): Promise<string> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const screen = this.capture();
      const bad = options.forbidden?.find((text) => screen.includes(text));
      if (bad) throw new Error(`"${bad}" appeared on the screen:\n${screen}`);
      if (typeof expected === 'string' ? screen.includes(expected) : expected.test(screen)) return screen;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${String(expected)}; screen:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  /**
   * Picks `option` in the menu on screen: moves the `❯` cursor to it and presses Enter, until the menu is
   * gone. A program still starting drops keys, so each step looks at the screen again instead of counting.
   */
  async choose(option: string, options: WaitOptions = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const screen = this.capture();
      const bad = options.forbidden?.find((text) => screen.includes(text));
      if (bad) throw new Error(`"${bad}" appeared on the screen:\n${screen}`);
      const lines = screen.split('\n');
      const target = lines.findIndex((line) => line.includes(option));
      if (target === -1) return;
      const cursor = lines.findIndex((line) => /^\s*❯/.test(line));
      if (Date.now() > deadline) throw new Error(`could not choose "${option}"; screen:\n${screen}`);
      if (cursor === target) this.keys('Enter');
      else this.keys(cursor !== -1 && cursor < target ? 'Down' : 'Up');
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
  }

  /**
   * Types `text` into the program's input line and presses Enter once the text shows (a program still
   * starting may drop keys: retyped, up to three times, when nothing shows within 5 s).
   */
  async submit(text: string, options: WaitOptions = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.type(text);
      try {
        await this.waitFor(text, { ...options, timeoutMs: 5_000 });
        break;
      } catch (err) {
        if (attempt === 3 || !(err as Error).message.startsWith('timed out')) throw err;
      }
    }
    this.keys('Enter');
  }

  /** Stops the tmux server and everything in it (SIGHUP to the panes' processes). */
  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {}
  }
}

/**
 * `abproxy claude` in a real terminal, as a new user meets it: the real launcher (`bin/abproxy.js claude`,
 * with `--model …` and without, when Claude Code picks its own default, and `--bedrock`) typed into a shell in tmux, a fresh HOME, a fresh `git init` workspace, the Bedrock
 * emulator as Bedrock and no way to reach api.anthropic.com. Print mode (`-p`) skips Claude Code's
 * onboarding, its API-key question and its status line; only the interactive CLI shows them.
 *
 * The folder-trust prompt is the only question answered; the emulator's scripted answer must reach the
 * screen; "Unable to connect", "Detected a custom API key" and "Not logged in" must never be on any
 * captured screen. With --no-onboarding-fix the onboarding comes back, which shows the test can fail.
 * The last screen of each run is saved under .test-results/claude-code-tty/ for people to read.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { claudeBinary } from './harness.ts';
import { hasTmux, Terminal } from './tmux.ts';

const root = join(import.meta.dirname, '../..');
const MODEL = 'qwen.qwen3-coder-480b-a35b-v1:0';
const NEVER = [
  'Unable to connect',
  'Detected a custom API key',
  'Not logged in',
  'Please run /login',
  // Claude Code's words for a model the gateway does not serve (a 404 on its first message).
  "There's an issue with the selected model",
];
/** Claude Code's first-run onboarding (theme picker); it must not show with the fix. */
const ONBOARDING = 'Choose the text style';
const TRUST = 'Yes, I trust this folder';
const SHELL_PROMPT = 'abproxy-tty-test$ ';
const artifacts = join(root, '.test-results', 'claude-code-tty');

/** Fails loudly where api.anthropic.com resolves: there the test would not show what it claims to. */
async function assertAnthropicUnreachable(): Promise<void> {
  const address = await lookup('api.anthropic.com').then(
    (a) => a.address,
    () => undefined,
  );
  if (address !== undefined) {
    throw new Error(
      `api.anthropic.com resolves here (${address}): this test proves that abproxy claude works where ` +
        'it does not, so run it on a machine without that name (as CI is), e.g. in a network namespace',
    );
  }
}

interface Workspace {
  home: string;
  project: string;
  rcfile: string;
}

/** A fresh HOME and `git init` project, and a shell rc file that sets up the user's environment. */
function workspace(emulator: Emulator): Workspace {
  const base = mkdtempSync(join(tmpdir(), 'abproxy-tty-'));
  const home = join(base, 'home');
  const project = join(base, 'project');
  mkdirSync(home);
  mkdirSync(project);
  execFileSync('git', ['init', '-q', project]);
  const env: Record<string, string> = {
    HOME: home,
    ABPROXY_HOME: join(home, '.abproxy'),
    // As root, Claude Code wants to know it runs in a sandbox.
    IS_SANDBOX: '1',
    // The Node that runs the tests, and the real claude (node_modules/.bin/claude).
    PATH: [dirname(process.execPath), join(root, 'node_modules/.bin'), '/usr/bin', '/bin'].join(':'),
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK: emulator.url,
    // The bedrock-mantle host: the only one serving Claude Code's default model (Opus 5.5) here.
    AWS_ENDPOINT_URL_BEDROCK_MANTLE: emulator.mantleUrl,
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    TERM: 'xterm-256color',
    SHELL: '/bin/bash',
  };
  const rcfile = join(base, 'rc.sh');
  const exports = Object.entries(env).map(([name, value]) => `export ${name}='${value}'`);
  writeFileSync(rcfile, [...exports, `cd '${project}'`, `PS1='${SHELL_PROMPT}'`, ''].join('\n'));
  return { home, project, rcfile };
}

function saveScreen(name: string, terminal: Terminal): void {
  mkdirSync(artifacts, { recursive: true });
  writeFileSync(join(artifacts, `${name}.txt`), terminal.screens.at(-1) ?? '');
  writeFileSync(join(artifacts, `${name}.all-screens.txt`), terminal.screens.join(`\n${'='.repeat(150)}\n`));
}

/**
 * Picks `option` in the menu Claude Code opened last (`Select model`): Down from its cursor to the option,
 * then Enter. Only the menu counts: earlier prompts in the scroll-back start with `❯` too.
 */
async function pickFromMenu(terminal: Terminal, option: string, forbidden: readonly string[]): Promise<void> {
  const screen = await terminal.waitFor(option, { timeoutMs: 15_000, forbidden });
  const menu = screen.slice(screen.lastIndexOf('Select model')).split('\n');
  const cursor = menu.findIndex((line) => /^\s*❯/.test(line));
  const target = menu.findIndex((line) => line.includes(option));
  expect(cursor, screen).toBeGreaterThan(-1);
  expect(target, screen).toBeGreaterThan(cursor);
  for (let i = cursor; i < target; i++) {
    terminal.keys('Down');
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  terminal.keys('Enter');
}

const runnable = hasTmux() && claudeBinary() !== undefined;

describe.skipIf(!runnable)('abproxy claude in a real terminal (tmux, interactive Claude Code)', () => {
  let emulator: Emulator;
  const terminals: Terminal[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    await assertAnthropicUnreachable();
    emulator = await startEmulator({ port: 0 });
  });

  afterEach(() => {
    // Claude Code first (two Ctrl-C), then the tmux server with the shell and the launcher in it.
    for (const terminal of terminals.splice(0)) {
      try {
        terminal.keys('C-c');
        terminal.keys('C-c');
      } catch {}
      terminal.kill();
    }
  });

  afterAll(async () => {
    for (const terminal of terminals) terminal.kill();
    await emulator?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function open(): { terminal: Terminal; ws: Workspace } {
    const ws = workspace(emulator);
    dirs.push(dirname(ws.home));
    const terminal = new Terminal();
    terminals.push(terminal);
    terminal.start(`bash --noprofile --rcfile '${ws.rcfile}' -i`);
    return { terminal, ws };
  }

  it('reaches a working prompt with only the folder-trust question, and answers from Bedrock', async () => {
    const answer = `TTY-ANSWER-${randomBytes(4).toString('hex')}`;
    emulator.reset();
    emulator.enqueue({ model: 'qwen3-coder', text: answer });
    const { terminal, ws } = open();
    const wait = (expected: string | RegExp, timeoutMs = 60_000) =>
      terminal.waitFor(expected, { timeoutMs, forbidden: [...NEVER, ONBOARDING] });
    try {
      await wait(SHELL_PROMPT, 10_000);
      terminal.type(`node ${join(root, 'bin/abproxy.js')} claude --model ${MODEL}`, 'Enter');
      // The one question: "Yes, I trust this folder" is the second option.
      await wait(TRUST);
      await terminal.choose(TRUST, { forbidden: [...NEVER, ONBOARDING] });
      await wait(/^❯\s*$/m);
      await terminal.submit('Say the scripted words.', { forbidden: NEVER });
      await wait(answer);
      // The context meter knows the model's real window, not the 1M Claude Code assumes for strangers.
      await terminal.submit('/context', { forbidden: NEVER });
      await wait('262.1k tokens');
      await terminal.submit('/model', { forbidden: NEVER });
      const models = await wait('Bedrock model through abproxy');
      // Every slot offers the Bedrock model: no Claude model (e.g. the fable slot's) to pick by mistake.
      expect(models.slice(models.lastIndexOf('Select model'))).not.toMatch(/Fable|Opus|Sonnet|Haiku/);
      terminal.keys('Escape');
      for (const screen of terminal.screens) {
        for (const text of NEVER) expect(screen, `"${text}" was on a screen`).not.toContain(text);
      }
      // The launcher said what it changed, and changed only that.
      expect(terminal.screens.join('\n')).toContain('setting hasCompletedOnboarding in');
      const claudeJson = JSON.parse(readFileSync(join(ws.home, '.claude.json'), 'utf8'));
      expect(claudeJson.hasCompletedOnboarding).toBe(true);
      expect(emulator.requests.some((r) => r.modelId === MODEL)).toBe(true);

      // Ctrl-C twice quits. Claude Code then says "claude --resume <id>", which has no gateway ("Not
      // logged in"): the launcher says the command that resumes through it, and that one does.
      await wait(/^❯\s*$/m);
      terminal.keys('C-c');
      await wait('Ctrl-C again');
      terminal.keys('C-c');
      const quit = await wait(/claude --resume ([0-9a-f-]{36})[\s\S]*abproxy-tty-test\$ *$/m);
      const id = /claude --resume ([0-9a-f-]{36})/.exec(quit)![1]!;
      expect(quit).toContain(`abproxy claude --resume ${id}`);
      terminal.keys('C-l');
      const later = `TTY-RESUMED-${randomBytes(4).toString('hex')}`;
      emulator.enqueue({ model: 'qwen3-coder', text: later });
      terminal.type(`node ${join(root, 'bin/abproxy.js')} claude --model ${MODEL} --resume ${id}`, 'Enter');
      // The conversation is back (the first answer on screen), and goes on.
      await wait(answer);
      await wait(/^❯\s*$/m);
      await terminal.submit('Say the next scripted words.', { forbidden: NEVER });
      await wait(later);
    } finally {
      saveScreen('first-run', terminal);
    }
  }, 180_000);

  it("answers the first message with no --model: Claude Code's default model, served by bedrock-mantle only", async () => {
    const answer = `TTY-DEFAULT-${randomBytes(4).toString('hex')}`;
    emulator.reset();
    // Claude Code picks its default (Opus 5.5); the emulator serves it on the mantle host alone.
    emulator.enqueue({ model: 'claude-opus-5-5', text: answer });
    const { terminal } = open();
    // Any refusal of the first message (404 model, 400 from the wrong host) fails at once.
    const refused = [...NEVER, ONBOARDING, 'API Error'];
    const wait = (expected: string | RegExp, timeoutMs = 60_000) =>
      terminal.waitFor(expected, { timeoutMs, forbidden: refused });
    try {
      await wait(SHELL_PROMPT, 10_000);
      terminal.type(`node ${join(root, 'bin/abproxy.js')} claude`, 'Enter');
      await wait(TRUST);
      await terminal.choose(TRUST, { forbidden: [...NEVER, ONBOARDING] });
      await wait(/^❯\s*$/m);
      await terminal.submit('Say the scripted words.', { forbidden: refused });
      await wait(answer);
      // /model offers what the gateway serves (its /v1/models), not only Claude Code's own names, and a
      // model picked there answers.
      const second = `TTY-PICKED-${randomBytes(4).toString('hex')}`;
      emulator.enqueue({ model: 'claude-sonnet-4-6', text: second });
      await terminal.submit('/model', { forbidden: refused });
      await pickFromMenu(terminal, 'Claude Sonnet 4.6', refused);
      // Mid-conversation Claude Code asks first ("Switch model?", Yes preselected).
      if ((await wait(/Set model to|Switch model\?/)).includes('Switch model?')) terminal.keys('Enter');
      await wait('Set model to');
      await terminal.submit('Say the second scripted words.', { forbidden: refused });
      await wait(second);
      for (const screen of terminal.screens) {
        for (const text of refused) expect(screen, `"${text}" was on a screen`).not.toContain(text);
      }
      expect(
        emulator.requests.some((r) => /claude-sonnet-4-6/.test(r.modelId ?? '') && r.status === 200),
      ).toBe(true);
      // The answer came from mantle's Messages API by the bare id, with no setting naming a path.
      const main = emulator.requests.filter(
        (r) => r.operation === 'MessagesApi' && r.modelId === 'anthropic.claude-opus-5-5',
      );
      expect(main.length).toBeGreaterThan(0);
      expect(main.every((r) => r.host === 'mantle' && r.status === 200)).toBe(true);
    } finally {
      saveScreen('default-model', terminal);
    }
  }, 180_000);

  it('answers the first message with --bedrock and no --model: the door sends Opus 5.5 to bedrock-mantle', async () => {
    const answer = `TTY-BEDROCK-${randomBytes(4).toString('hex')}`;
    emulator.reset();
    // Claude Code in Bedrock mode may first probe its default model with a 1-token call: two answers.
    const reply = { model: 'claude-opus-5-5', text: answer };
    emulator.enqueue(reply, reply);
    const { terminal } = open();
    const refused = [...NEVER, ONBOARDING, 'API Error'];
    const wait = (expected: string | RegExp, timeoutMs = 60_000) =>
      terminal.waitFor(expected, { timeoutMs, forbidden: refused });
    try {
      await wait(SHELL_PROMPT, 10_000);
      terminal.type(`node ${join(root, 'bin/abproxy.js')} claude --bedrock`, 'Enter');
      await wait(TRUST);
      await terminal.choose(TRUST, { forbidden: [...NEVER, ONBOARDING] });
      await wait(/^❯\s*$/m);
      await terminal.submit('Say the scripted words.', { forbidden: refused });
      await wait(answer);
      for (const screen of terminal.screens) {
        for (const text of refused) expect(screen, `"${text}" was on a screen`).not.toContain(text);
      }
      // Claude Code spoke InvokeModel to the door; the door called mantle's Messages API by the bare id.
      const answered = emulator.requests.filter((r) => r.operation === 'MessagesApi' && r.status === 200);
      expect(answered.length).toBeGreaterThan(0);
      expect(answered.every((r) => r.host === 'mantle' && r.modelId === 'anthropic.claude-opus-5-5')).toBe(
        true,
      );
      expect(
        emulator.requests.filter(
          (r) => r.operation.startsWith('InvokeModel') && /opus-5-5/.test(r.modelId ?? ''),
        ),
      ).toHaveLength(0);
    } finally {
      saveScreen('bedrock-default-model', terminal);
    }
  }, 180_000);

  it('says nothing about resuming after a command that opens no session (claude --version)', async () => {
    const { terminal } = open();
    try {
      await terminal.waitFor(SHELL_PROMPT, { timeoutMs: 10_000 });
      terminal.type(`node ${join(root, 'bin/abproxy.js')} claude --version; echo "exit=$?"`, 'Enter');
      const screen = await terminal.waitFor('exit=0', { timeoutMs: 60_000 });
      expect(screen).toContain('(Claude Code)');
      expect(screen).not.toContain('resume');
    } finally {
      saveScreen('version', terminal);
    }
  }, 120_000);

  it('shows Claude Code onboarding with --no-onboarding-fix (the test above can fail)', async () => {
    const { terminal, ws } = open();
    try {
      await terminal.waitFor(SHELL_PROMPT, { timeoutMs: 10_000 });
      terminal.type(
        `node ${join(root, 'bin/abproxy.js')} claude --no-onboarding-fix --model ${MODEL}`,
        'Enter',
      );
      await terminal.waitFor(ONBOARDING, { timeoutMs: 60_000, forbidden: [TRUST] });
      expect(() => readFileSync(join(ws.home, '.claude.json'), 'utf8')).not.toThrow();
      const claudeJson = JSON.parse(readFileSync(join(ws.home, '.claude.json'), 'utf8'));
      expect(claudeJson.hasCompletedOnboarding).toBeUndefined();
    } finally {
      saveScreen('no-onboarding-fix', terminal);
    }
  }, 120_000);
});

/**
 * Attribution with the real Claude Code CLI (issue 18): the main agent delegates to a subagent (the
 * Agent tool, formerly Task), which delegates to a nested subagent; the answer travels back up. Claude
 * Code tags each call with its session and, for subagents, their agent id (and a nested one's parent);
 * `abproxy usage --session S --by agent` (a real CLI process on the gateway's store) splits that
 * session into the main agent, the subagent (parent: the main agent) and the nested one (parent: the
 * subagent).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageReport } from '../../src/usage/report.ts';
import { runAbproxy } from '../helpers/process.ts';
import { claudeBinary, modelCalls, runClaude, type Stack, startStack, tempProject } from './harness.ts';

const SECRET = 'HERON-7';
const MODEL = 'claude-sonnet-4-5';
const tokens = (inputTokens: number, outputTokens: number) => ({ inputTokens, outputTokens });
/** The Agent tool call that starts a general-purpose subagent in the foreground (the run waits for it). */
const delegate = (description: string, prompt: string) => ({
  name: 'Agent',
  input: { description, prompt, subagent_type: 'general-purpose', run_in_background: false },
});

describe.runIf(claudeBinary() !== undefined)('Claude Code subagent attribution', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });

  const usage = (args: string[]) =>
    runAbproxy(['usage', ...args], {
      env: { PATH: process.env.PATH, ABPROXY_HOME: stack.gatewayHome, AWS_REGION: 'us-east-1' },
    });

  it('abproxy usage --session S --by agent splits the session into the main agent and its subagents', {
    timeout: 180_000,
  }, async () => {
    const project = tempProject('notes.txt', `The secret word is ${SECRET}.\n`);
    try {
      stack.emulator.enqueue(
        // 1. The main agent delegates to a subagent, 2. which delegates to a nested one;
        {
          model: MODEL,
          toolCalls: [delegate('Find the word', 'Find the secret word')],
          usage: tokens(1000, 50),
        },
        { model: MODEL, toolCalls: [delegate('Read notes', 'Read notes.txt')], usage: tokens(300, 20) },
        // 3. the nested subagent answers, 4. its parent passes that on, 5. the main agent reports.
        { model: MODEL, text: `The secret word is ${SECRET}.`, usage: tokens(200, 10) },
        { model: MODEL, text: 'Subagent: {{toolResult}}', usage: tokens(400, 15) },
        { model: MODEL, text: 'Main agent: {{toolResult}}', usage: tokens(1200, 30) },
      );
      const run = await runClaude(stack, {
        prompt: 'Use a subagent to find the secret word in notes.txt',
        cwd: project.dir,
        env: { ANTHROPIC_MODEL: MODEL },
        timeoutMs: 120_000,
      });
      const calls = stack.captured.filter((c) => c.url.startsWith('/v1/messages'));
      const diagnostics = () =>
        `exit ${run.code}\nstderr: ${run.stderr}\ngateway: ${stack.gatewayLog()}\n` +
        calls
          .map(
            (c) =>
              `${c.method} ${c.url} → ${c.status} session=${c.headers['x-claude-code-session-id']} ` +
              `agent=${c.headers['x-claude-code-agent-id']} parent=${c.headers['x-claude-code-parent-agent-id']}`,
          )
          .join('\n');
      expect(run.code, diagnostics()).toBe(0);
      expect(String(run.result?.result), diagnostics()).toContain(SECRET);
      expect(
        calls.map((c) => c.status),
        diagnostics(),
      ).toEqual([200, 200, 200, 200, 200]);
      expect(modelCalls(stack.emulator)).toHaveLength(5);

      // What Claude Code 2.1.332 sends (documented in src/usage/attribution.ts): one session id on
      // every call; no agent id on the main agent's; an agent id on each subagent's; a parent id only
      // on a nested subagent's, naming the subagent that started it.
      const session = String(calls[0]!.headers['x-claude-code-session-id']);
      expect(session).toMatch(/^[0-9a-f-]{36}$/);
      expect(calls.every((c) => c.headers['x-claude-code-session-id'] === session)).toBe(true);
      const agentIds = calls.map((c) => c.headers['x-claude-code-agent-id']);
      const [sub, nested] = [String(agentIds[1]), String(agentIds[2])];
      expect(sub).toMatch(/^\w+$/);
      expect(nested).toMatch(/^\w+$/);
      expect(nested).not.toBe(sub);
      expect(agentIds, diagnostics()).toEqual([undefined, sub, nested, sub, undefined]);
      expect(calls.map((c) => c.headers['x-claude-code-parent-agent-id'])).toEqual([
        undefined,
        undefined,
        sub,
        undefined,
        undefined,
      ]);

      const json = await usage(['--session', session, '--by', 'agent', '--format', 'json']);
      expect(json.code, json.stderr).toBe(0);
      const report = JSON.parse(json.stdout) as UsageReport;
      expect(report.session).toBe(session);
      expect(
        report.groups.map((g) => [g.group, g.parent, g.session, g.requests, g.input_tokens, g.output_tokens]),
      ).toEqual([
        ['(main)', null, session, 2, 2200, 80],
        [sub, '(main)', session, 2, 700, 35],
        [nested, sub, session, 1, 200, 10],
      ]);
      expect(report.groups.every((g) => g.cost_usd > 0)).toBe(true);
      expect(report.total.requests).toBe(5);

      // The same as a table for people: one row per agent, then the total.
      const table = await usage(['--session', session, '--by', 'agent', '--plain']);
      expect(table.code, table.stderr).toBe(0);
      const lines = table.stdout.trim().split('\n');
      expect(lines[0]).toContain(`in session ${session}`);
      expect(lines[1]).toMatch(/^AGENT\s+PARENT\s+REQUESTS/);
      expect(lines[2]).toMatch(/^\(main\)\s+2\s/);
      expect(lines[3]).toMatch(new RegExp(`^${sub}\\s+\\(main\\)\\s+2\\s`));
      expect(lines[4]).toMatch(new RegExp(`^${nested}\\s+${sub}\\s+1\\s`));
      expect(lines[5]).toMatch(/^total\s+5\s/);
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  });
});

/**
 * The real Claude Code CLI through `abproxy serve` with two upstreams (ABPROXY_UPSTREAMS): the primary
 * emulator throttles 50% of the Sonnet calls (fault injection by rate), the secondary serves what the
 * primary refused. Claude Code runs a tool loop of three model calls — Read, Bash, answer — and must see
 * no failure at all: every request it sent answered 200, and the answer made from the tools' output.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../emulator/server.ts';
import { claudeBinary, modelCalls, runClaude, type Stack, startStack, tempProject } from './harness.ts';

const SECRET = 'HERON-77';
const SONNET = 'claude-sonnet-4-5';
const installed = claudeBinary() !== undefined;

describe.runIf(installed)('Claude Code through a pool whose primary throttles half of the calls', () => {
  let primary: Emulator;
  let secondary: Emulator;
  let stack: Stack;

  beforeAll(async () => {
    primary = await startEmulator({ port: 0, faults: { throttle: { percent: 50, model: SONNET } } });
    secondary = await startEmulator({ port: 0 });
    const upstream = (name: string, e: Emulator) => ({
      name,
      region: 'us-east-1',
      endpoint: e.url,
      controlEndpoint: e.url,
      credentials: { accessKeyId: 'AKIDEMULATOR', secretAccessKey: 'emulator-secret' },
    });
    stack = await startStack({
      ABPROXY_UPSTREAMS: JSON.stringify([upstream('primary', primary), upstream('secondary', secondary)]),
    });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
    await primary?.close();
    await secondary?.close();
  });

  it('runs a Read → Bash → answer loop and sees no failure', async () => {
    const project = tempProject('notes.txt', `The secret word is ${SECRET}.\n`);
    try {
      // Sonnet calls 1 and 3 pass the primary; call 2 is throttled there and served by the secondary.
      primary.enqueue(
        { model: SONNET, toolCalls: [{ name: 'Read', input: { file_path: project.file } }] },
        { model: SONNET, text: 'The file says: {{toolResult}}' },
      );
      secondary.enqueue({
        model: SONNET,
        toolCalls: [
          { name: 'Bash', input: { command: `cat ${project.file}`, description: 'Show notes.txt' } },
        ],
      });
      const run = await runClaude(stack, {
        prompt: 'What is the secret word in notes.txt?',
        cwd: project.dir,
        env: { ANTHROPIC_MODEL: SONNET },
        timeoutMs: 90_000,
      });
      const diagnostics = () =>
        `exit ${run.code}\nstderr: ${run.stderr}\ngateway: ${stack.gatewayLog()}\n` +
        stack.captured
          .map((c) => `${c.method} ${c.url} → ${c.status} ${c.response.slice(0, 300)}`)
          .join('\n');

      expect(run.code, diagnostics()).toBe(0);
      expect(run.result?.subtype, diagnostics()).toBe('success');
      expect(run.result?.is_error).toBe(false);
      expect(String(run.result?.result)).toContain(SECRET);

      // Claude Code never saw a throttle: every message call it made was answered 200, none retried.
      const messageCalls = stack.captured.filter((c) => c.url.startsWith('/v1/messages'));
      expect(
        messageCalls.map((c) => c.status),
        diagnostics(),
      ).toEqual([200, 200, 200]);

      // The primary really throttled one of its three Sonnet calls; the secondary served exactly that one.
      const atPrimary = modelCalls(primary).filter((c) => c.modelId?.includes(SONNET));
      expect(atPrimary.map((c) => c.status)).toEqual([200, 429, 200]);
      const atSecondary = modelCalls(secondary).filter((c) => c.modelId?.includes(SONNET));
      expect(atSecondary.map((c) => c.status)).toEqual([200]);
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  }, 120_000);
});

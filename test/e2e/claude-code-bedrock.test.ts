/**
 * The real Claude Code CLI in its Bedrock mode (CLAUDE_CODE_USE_BEDROCK=1, ANTHROPIC_BEDROCK_BASE_URL at
 * `abproxy serve`, AWS_BEARER_TOKEN_BEDROCK = an abproxy key) through the Bedrock-format door against the
 * emulator: a tool loop on a Claude model, every call answered 200, Claude Code's native bodies reaching
 * "Bedrock" as it sent them, and the usage recorded under the key.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  claudeBinary,
  MASTER_KEY,
  modelCalls,
  runClaude,
  type Stack,
  startStack,
  tempProject,
} from './harness.ts';

const SECRET = 'HERON-77';
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';

type Json = Record<string, unknown>;

/** Claude Code in Bedrock mode, pointed at the door (through the recording proxy). */
function bedromEnv(stack: Stack, key: string): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: '',
    ANTHROPIC_API_KEY: '',
    CLAUDE_CODE_USE_BEDROCK: '1',
    ANTHROPIC_BEDROCK_BASE_URL: stack.proxyUrl,
    AWS_BEARER_TOKEN_BEDROCK: key,
    AWS_REGION: 'us-east-1',
    ANTHROPIC_MODEL: MODEL,
    ANTHROPIC_SMALL_FAST_MODEL: MODEL,
  };
}

describe.skipIf(!claudeBinary())('Claude Code in Bedrock mode through the door', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ABPROXY_USAGE_DRAIN_MS: '50' });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => stack.reset());

  it('runs a tool loop on a Claude model', { timeout: 120_000 }, async () => {
    const project = tempProject('notes.txt', `The secret word is ${SECRET}.\n`);
    try {
      stack.emulator.enqueue(
        // Claude Code asks Sonnet 4.5 for thinking: each turn starts with a (signed) thinking block.
        {
          model: 'sonnet-4-5',
          reasoning: { text: 'I should read the file.' },
          toolCalls: [{ name: 'Read', input: { file_path: project.file } }],
        },
        {
          model: 'sonnet-4-5',
          reasoning: { text: 'The tool answered.' },
          text: 'The file says: {{toolResult}}',
        },
      );
      const run = await runClaude(stack, {
        prompt: 'What is the secret word in notes.txt?',
        cwd: project.dir,
        env: bedromEnv(stack, MASTER_KEY),
      });
      const diagnostics = () =>
        `exit ${run.code}\nstderr: ${run.stderr}\ngateway: ${stack.gatewayLog()}\n` +
        stack.captured
          .map((c) => `${c.method} ${c.url} → ${c.status} ${c.response.slice(0, 300)}`)
          .join('\n');
      expect(run.code, diagnostics()).toBe(0);
      expect(run.result?.subtype, diagnostics()).toBe('success');
      expect(String(run.result?.result), diagnostics()).toContain(SECRET);

      // Claude Code spoke Bedrock's protocol to the door, and every model call was answered 200.
      // (At start it also probes other Claude models with tiny invokes; the emulator lacks some: 400s.)
      const doorCalls = stack.captured.filter((c) => c.url.startsWith('/model/'));
      expect(doorCalls.every((c) => String(c.headers.authorization).startsWith('Bearer '))).toBe(true);
      const turns = doorCalls.filter((c) => c.url.includes('/invoke-with-response-stream'));
      expect(
        turns.map((c) => [c.url, c.status]),
        diagnostics(),
      ).toEqual(turns.map(() => [`/model/${MODEL}/invoke-with-response-stream`, 200]));
      expect(turns).toHaveLength(2);
      // Refusals Claude Code saw are in Bedrock's shape, which its SDK parses.
      for (const refused of doorCalls.filter((c) => c.status !== 200)) {
        expect(refused.response).toMatch(/^\{"message":/);
      }

      const calls = modelCalls(stack.emulator).filter((c) => c.modelId === MODEL);
      expect(
        calls.map((c) => [c.operation, c.status]),
        diagnostics(),
      ).toEqual(calls.map(() => ['InvokeModelWithResponseStream', 200]));
      // Native bodies, unchanged: Bedrock's anthropic_version, no `model` field.
      const last = calls.at(-1)!.body as Json;
      expect(last.anthropic_version).toBe('bedrock-2023-05-31');
      expect(last.model).toBeUndefined();
      expect(JSON.stringify(last.messages)).toContain(SECRET);

      // Usage went through the meter: the gateway's token counters moved for this model.
      const metrics = await (
        await fetch(`${stack.gatewayUrl}/metrics`, { headers: { 'x-api-key': MASTER_KEY } })
      ).text();
      expect(metrics).toMatch(/abproxy_tokens_total\{[^}]*kind="output"[^}]*\} [1-9]/);
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  });

  it("the gateway's own AWS keys refused: Claude Code stops at the first answer", {
    timeout: 90_000,
  }, async () => {
    // Its Bedrock client obeys x-should-retry; without it on the door, it retried this permanent 502
    // ten times over three minutes.
    const refused = await startStack({ AWS_ACCESS_KEY_ID: 'AKIDREVOKED' });
    try {
      const project = tempProject('notes.txt', 'nothing\n');
      const started = Date.now();
      const run = await runClaude(refused, {
        prompt: 'Hello',
        cwd: project.dir,
        env: bedromEnv(refused, MASTER_KEY),
        timeoutMs: 60_000,
      });
      rmSync(project.dir, { recursive: true, force: true });
      const turns = refused.captured.filter((c) => c.url.includes('/invoke-with-response-stream'));
      expect(run.code).toBe(1);
      expect(String(run.result?.result)).toContain("the gateway's AWS credentials");
      expect(turns.map((c) => c.status)).toEqual([502]);
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await refused.close();
    }
  });
});

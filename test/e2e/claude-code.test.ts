/**
 * The real Claude Code CLI (`claude -p`, stream-json) through `abproxy serve` against the Bedrock
 * emulator: the model calls a tool, Claude Code runs it on a real file, the next turn carries the tool's
 * output to "Bedrock", and the model's answer (made from that output) is Claude Code's result. Every
 * call that reached the emulator must have been accepted, as real Bedrock would.
 *
 * Each scenario also records Claude Code's own request bodies and compares their shape with the golden
 * files in test/fixtures/claude-code/ (UPDATE_GOLDEN=1 rewrites them).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../emulator/server.ts';
import { verifyClaudeSignature } from '../emulator/signature.ts';
import { normaliseCaptures, readGolden, requestShape, updatingGolden, writeGolden } from './golden.ts';
import {
  type ClaudeRun,
  claudeBinary,
  modelCalls,
  runClaude,
  type Stack,
  startStack,
  tempProject,
} from './harness.ts';

const SECRET = 'PELICAN-42';
const PROMPT = 'What is the secret word in notes.txt?';
const ANSWER_PREFIX = 'The file says:';

type Json = Record<string, unknown>;

interface ToolLoop {
  scenario: string;
  /** Substring of the Bedrock foundation model id the scripted turns are for. */
  model: string;
  env: Record<string, string>;
  args?: string[];
  tool: 'Read' | 'Bash';
  /** Reasoning the model shows before each turn (reasoning models). */
  reasoning?: [string, string];
  /** Compare Claude Code's bodies with a golden capture (default true). */
  golden?: boolean;
}

function toolInput(tool: ToolLoop['tool'], file: string): Json {
  return tool === 'Read' ? { file_path: file } : { command: `cat ${file}`, description: 'Show notes.txt' };
}

/** Scripts the two model turns, runs Claude Code, and checks what a user would see. */
async function runToolLoop(stack: Stack, loop: ToolLoop) {
  const project = tempProject('notes.txt', `The secret word is ${SECRET}.\n`);
  try {
    stack.emulator.enqueue(
      {
        model: loop.model,
        ...(loop.reasoning ? { reasoning: { text: loop.reasoning[0] } } : {}),
        toolCalls: [{ name: loop.tool, input: toolInput(loop.tool, project.file) }],
      },
      {
        model: loop.model,
        ...(loop.reasoning ? { reasoning: { text: loop.reasoning[1] } } : {}),
        text: `${ANSWER_PREFIX} {{toolResult}}`,
      },
    );
    const run = await runClaude(stack, { prompt: PROMPT, cwd: project.dir, env: loop.env, args: loop.args });
    const diagnostics = () =>
      `exit ${run.code}\nstderr: ${run.stderr}\ngateway: ${stack.gatewayLog()}\n` +
      stack.captured.map((c) => `${c.method} ${c.url} → ${c.status} ${c.response.slice(0, 300)}`).join('\n');

    expect(run.code, diagnostics()).toBe(0);
    expect(run.result?.subtype, diagnostics()).toBe('success');
    expect(run.result?.is_error).toBe(false);
    // The answer is built from what the tool really returned: the file's line, as Claude Code's tool formats it.
    expect(String(run.result?.result)).toContain(ANSWER_PREFIX);
    expect(String(run.result?.result)).toContain(SECRET);

    const toolUse = assistantBlocks(run).find((b) => b.type === 'tool_use');
    expect(toolUse).toMatchObject({ name: loop.tool });
    const toolResult = userBlocks(run).find((b) => b.type === 'tool_result');
    expect(toolResult?.tool_use_id).toBe(toolUse?.id);
    expect(JSON.stringify(toolResult?.content)).toContain(SECRET);
    expect(toolResult?.is_error ?? false).toBe(false);

    // Claude Code never had to retry or strip features: every call it made was answered 200.
    const messageCalls = stack.captured.filter((c) => c.url.startsWith('/v1/messages'));
    expect(
      messageCalls.map((c) => c.status),
      diagnostics(),
    ).toEqual(messageCalls.map(() => 200));
    expect(messageCalls.length).toBe(2);

    // What reached "Bedrock" was accepted, and the second turn carried the tool's output.
    const calls = modelCalls(stack.emulator);
    expect(
      calls.map((c) => [c.operation, c.status, c.aborted]),
      diagnostics(),
    ).toEqual(calls.map((c) => [c.operation, 200, false]));
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.modelId?.includes(loop.model))).toBe(true);
    expect(toolResultText(calls[1]!)).toContain(SECRET);
    // Claude Code's per-session billing line stays home (it would defeat prompt caching upstream).
    expect(JSON.stringify(calls.map((c) => c.body))).not.toContain('x-anthropic-billing-header');

    if (loop.golden !== false) checkGolden(stack, loop.scenario, run, project.dir);
    return { run, calls, project };
  } finally {
    rmSync(project.dir, { recursive: true, force: true });
  }
}

function assistantBlocks(run: ClaudeRun): Json[] {
  return run.events
    .filter((e) => e.type === 'assistant')
    .flatMap((e) => ((e.message as Json).content as Json[]) ?? []);
}

function userBlocks(run: ClaudeRun): Json[] {
  return run.events
    .filter((e) => e.type === 'user')
    .flatMap((e) => {
      const content = (e.message as Json).content;
      return Array.isArray(content) ? (content as Json[]) : [];
    });
}

/** The tool result the emulator received, in either wire format (Converse or native Anthropic). */
function toolResultText(call: RecordedRequest): string {
  const messages = (call.body as Json).messages as Json[];
  const last = messages.at(-1)!;
  const blocks = (last.content as Json[]).flatMap((block) => {
    if (block.toolResult) return [(block.toolResult as Json).content];
    if (block.type === 'tool_result') return [block.content];
    return [];
  });
  return JSON.stringify(blocks);
}

/** Thinking blocks in the assistant turns of a request body, in either wire format. */
function echoedThinking(call: RecordedRequest): { text: string; signature?: string }[] {
  const messages = (call.body as Json).messages as Json[];
  return messages
    .filter((m) => m.role === 'assistant')
    .flatMap((m) => m.content as Json[])
    .flatMap((block) => {
      const reasoning = (block.reasoningContent as Json | undefined)?.reasoningText as Json | undefined;
      if (reasoning) return [{ text: String(reasoning.text), signature: reasoning.signature as string }];
      if (block.type === 'thinking')
        return [{ text: String(block.thinking), signature: block.signature as string }];
      return [];
    });
}

function checkGolden(stack: Stack, scenario: string, run: ClaudeRun, projectDir: string): void {
  const paths = { [projectDir]: '<project>', [run.home]: '<home>' };
  const file = normaliseCaptures(stack.captured, scenario, { paths });
  if (updatingGolden) {
    writeGolden(file);
    return;
  }
  const golden = readGolden(scenario);
  expect(golden, `no golden file for ${scenario}: run with UPDATE_GOLDEN=1`).toBeDefined();
  const diffHint = `Claude Code ${file.claudeCodeVersion} sends a different shape than the golden capture from ${golden?.claudeCodeVersion}; review and rerun with UPDATE_GOLDEN=1`;
  expect(file.requests.map(requestShape), diffHint).toEqual(golden!.requests.map(requestShape));
}

const installed = claudeBinary() !== undefined;

describe.runIf(installed)('Claude Code through abproxy (print mode, stream-json)', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => stack.reset());

  it('open model (Qwen3 Coder as the sonnet model): Read runs, the answer comes from the file', async () => {
    await runToolLoop(stack, {
      scenario: 'qwen3-coder-read',
      model: 'qwen.qwen3-coder-480b-a35b-v1:0',
      env: {
        ANTHROPIC_DEFAULT_SONNET_MODEL: 'qwen.qwen3-coder-480b-a35b-v1:0',
        ANTHROPIC_DEFAULT_HAIKU_MODEL: 'qwen.qwen3-32b-v1:0',
      },
      args: ['--model', 'sonnet'],
      tool: 'Read',
    });
    // Open models go through Converse.
    expect(modelCalls(stack.emulator).map((c) => c.operation)).toEqual(['ConverseStream', 'ConverseStream']);
  });

  it('Claude (claude-sonnet-4-5 → us. profile): thinking + Read, signed thinking replayed and accepted', async () => {
    const { run, calls } = await runToolLoop(stack, {
      scenario: 'claude-sonnet-4-5-read',
      model: 'claude-sonnet-4-5',
      env: { ANTHROPIC_MODEL: 'claude-sonnet-4-5' },
      tool: 'Read',
      reasoning: ['I should read notes.txt first.', 'The file holds the secret word.'],
    });
    expect(assistantBlocks(run).filter((b) => b.type === 'thinking')).not.toHaveLength(0);
    // Claude 4.5 is on-demand only through an inference profile.
    expect(calls.map((c) => c.modelId)).toEqual([
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
      'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ]);
    const replayed = echoedThinking(calls[1]!);
    expect(replayed.map((t) => t.text)).toEqual(['I should read notes.txt first.']);
    // Bedrock checks Claude's signature on replayed thinking; the emulator signs and checks the same way.
    expect(replayed.every((t) => verifyClaudeSignature(t.text, t.signature ?? ''))).toBe(true);
  });

  it('Claude with adaptive thinking and effort (claude-sonnet-4-6): Bash runs, the answer comes from its output', async () => {
    await runToolLoop(stack, {
      scenario: 'claude-sonnet-4-6-bash',
      model: 'claude-sonnet-4-6',
      env: { ANTHROPIC_MODEL: 'claude-sonnet-4-6' },
      tool: 'Bash',
      reasoning: ['Let me cat the file.', 'The output has the word.'],
    });
  });

  it('reasoning model (gpt-oss-120b): reasoning shows in Claude Code, the tool loop works, the echo is accepted', async () => {
    const { run } = await runToolLoop(stack, {
      scenario: 'gpt-oss-120b-read',
      model: 'openai.gpt-oss-120b-1:0',
      env: { ANTHROPIC_MODEL: 'openai.gpt-oss-120b-1:0' },
      tool: 'Read',
      reasoning: ['I should read notes.txt first.', 'The tool returned the file.'],
    });
    const thinking = assistantBlocks(run).filter((b) => b.type === 'thinking');
    expect(thinking.map((b) => b.thinking)).toEqual([
      'I should read notes.txt first.',
      'The tool returned the file.',
    ]);
    // Claude Code echoed the first turn's thinking (signed by the gateway) and the gateway took it.
    const second = stack.captured.filter((c) => c.url.startsWith('/v1/messages'))[1]!;
    const echoed = ((second.body as Json).messages as Json[])
      .filter((m) => m.role === 'assistant')
      .flatMap((m) => m.content as Json[])
      .filter((b) => b.type === 'thinking');
    expect(echoed.map((b) => b.thinking)).toEqual(['I should read notes.txt first.']);
    expect(second.status).toBe(200);
  });

  // Llama 3.1+/4 and Mistral Large take tools only without streaming while Claude Code always streams
  // with tools: the gateway serves such streams from Converse (caps.streamingTools, converse-as-stream).
  it('Llama 4 Maverick (tools only without streaming): Read runs, the answer comes from the file', async () => {
    await runToolLoop(stack, {
      scenario: 'llama4-maverick-read',
      model: 'meta.llama4-maverick-17b-instruct-v1:0',
      env: { ANTHROPIC_MODEL: 'meta.llama4-maverick-17b-instruct-v1:0' },
      tool: 'Read',
      golden: false,
    });
  });
});

describe.runIf(installed)('Claude Code through abproxy with Claude on the Converse path', () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ ABPROXY_CLAUDE_PATH: 'converse' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('claude-sonnet-4-5 over ConverseStream: thinking + Read, replayed thinking accepted', async () => {
    const { calls } = await runToolLoop(stack, {
      scenario: 'claude-sonnet-4-5-read',
      model: 'claude-sonnet-4-5',
      env: { ANTHROPIC_MODEL: 'claude-sonnet-4-5' },
      tool: 'Read',
      reasoning: ['I should read notes.txt first.', 'The file holds the secret word.'],
    });
    expect(calls.map((c) => c.operation)).toEqual(['ConverseStream', 'ConverseStream']);
    const replayed = echoedThinking(calls[1]!);
    expect(replayed.map((t) => t.text)).toEqual(['I should read notes.txt first.']);
    expect(replayed.every((t) => verifyClaudeSignature(t.text, t.signature ?? ''))).toBe(true);
  });
});

describe.runIf(installed).each([
  ['messages', 'runtime', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
  ['mantle', 'mantle', 'anthropic.claude-sonnet-4-5-20250929-v1:0'],
] as const)('Claude Code through abproxy with ABPROXY_CLAUDE_PATH=%s', (path, host, modelId) => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack({ ABPROXY_CLAUDE_PATH: path });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("claude-sonnet-4-5 over Bedrock's Messages API: thinking + Read, replayed thinking accepted", async () => {
    const { calls } = await runToolLoop(stack, {
      scenario: 'claude-sonnet-4-5-read',
      model: 'claude-sonnet-4-5',
      env: { ANTHROPIC_MODEL: 'claude-sonnet-4-5' },
      tool: 'Read',
      reasoning: ['I should read notes.txt first.', 'The file holds the secret word.'],
    });
    expect(calls.map((c) => [c.operation, c.host, c.modelId])).toEqual([
      ['MessagesApi', host, modelId],
      ['MessagesApi', host, modelId],
    ]);
    expect(calls.map((c) => c.headers['anthropic-version'])).toEqual(['2023-06-01', '2023-06-01']);
    const replayed = echoedThinking(calls[1]!);
    expect(replayed.map((t) => t.text)).toEqual(['I should read notes.txt first.']);
    expect(replayed.every((t) => verifyClaudeSignature(t.text, t.signature ?? ''))).toBe(true);
  });
});

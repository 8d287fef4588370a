/**
 * The real Claude Code CLI's WebSearch tool through `abproxy serve`, with the fake search provider
 * (Brave's API) behind the gateway and the Bedrock emulator scripted per call: the main model calls
 * WebSearch; Claude Code sends its own inner request (the web_search server tool, a forced tool choice,
 * streaming); the gateway runs the search loop; Claude Code hands the results to the main model, whose
 * answer is the result. On a Claude model (native path) and on an open model (Converse, where the forced
 * choice cannot be expressed). And its WebFetch tool on a page the test serves (Claude Code fetches it
 * itself and asks the small model about it, through the gateway).
 */

import { rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeSearch, startFakeSearch } from '../fakes/search-provider.ts';
import { type ThrowAwayCertificate, throwAwayCertificate } from '../helpers/tls.ts';
import { claudeBinary, modelCalls, runClaude, type Stack, startStack, tempProject } from './harness.ts';

type Json = Record<string, unknown>;

const installed = claudeBinary() !== undefined;
const HIT = {
  url: 'https://docs.example.com/pelican-release',
  title: 'Pelican 7 released',
  content: 'Pelican 7 was released on 1 December 2026 with a new plugin API.',
  pageAge: '1 day ago',
};

describe.runIf(installed)('Claude Code WebSearch through abproxy (print mode)', () => {
  let stack: Stack;
  let fake: FakeSearch;
  beforeAll(async () => {
    fake = await startFakeSearch();
    stack = await startStack({
      ABPROXY_WEB_SEARCH_PROVIDER: 'brave',
      ABPROXY_WEB_SEARCH_URL: fake.url,
      ABPROXY_WEB_SEARCH_API_KEY: fake.apiKey,
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await fake?.close();
  });
  beforeEach(() => {
    stack.reset();
    fake.reset();
    fake.scriptDefault({ results: [HIT] });
  });

  it.each([
    ['Claude', 'claude-sonnet-4-5', 'claude-sonnet-4-5'],
    ['an open model', 'qwen.qwen3-coder-480b-a35b-v1:0', 'qwen3-coder'],
  ])(
    '%s: WebSearch answers with the provider result',
    async (_label, modelEnv, modelMatch) => {
      const project = tempProject('README.md', 'empty project\n');
      try {
        stack.emulator.enqueue(
          // The main conversation: the model calls Claude Code's WebSearch tool.
          {
            model: modelMatch,
            toolCalls: [{ name: 'WebSearch', input: { query: 'pelican 7 release date' } }],
          },
          // Claude Code's inner request: the model calls the web_search tool, then answers citing [1].
          {
            model: modelMatch,
            toolCalls: [{ name: 'web_search', input: { query: 'pelican 7 release date' } }],
          },
          { model: modelMatch, text: 'Pelican 7 was released on 1 December 2026 [1].' },
          // The main conversation again, with the WebSearch tool's result.
          { model: modelMatch, text: 'According to the search, Pelican 7 came out on 1 December 2026.' },
        );
        const run = await runClaude(stack, {
          prompt: 'When was Pelican 7 released? Search the web.',
          cwd: project.dir,
          env: {
            ANTHROPIC_MODEL: modelEnv,
            ANTHROPIC_SMALL_FAST_MODEL: modelEnv,
            ANTHROPIC_DEFAULT_HAIKU_MODEL: modelEnv,
          },
          timeoutMs: 90_000,
        });
        const diagnostics = () =>
          `exit ${run.code}\nstderr: ${run.stderr}\ngateway: ${stack.gatewayLog()}\n` +
          stack.captured
            .map((c) => `${c.method} ${c.url} → ${c.status} ${c.response.slice(0, 400)}`)
            .join('\n') +
          `\nemulator: ${JSON.stringify(modelCalls(stack.emulator).map((c) => [c.operation, c.status]))}` +
          `\nevents: ${run.stdout.slice(-3000)}`;
        expect(run.code, diagnostics()).toBe(0);
        expect(run.result?.subtype, diagnostics()).toBe('success');
        expect(String(run.result?.result)).toContain('1 December 2026');

        // The provider was asked, once, with the model's query.
        expect(
          fake.queries.map((q) => q.query),
          diagnostics(),
        ).toEqual(['pelican 7 release date']);
        // Claude Code's inner request reached the gateway in its documented shape and was answered 200.
        const inner = stack.captured.find((c) =>
          JSON.stringify((c.body as Json | undefined)?.tools ?? []).includes('web_search_20250305'),
        );
        expect(inner, diagnostics()).toBeDefined();
        expect(inner!.status).toBe(200);
        // Claude Code forces the tool (or, for models it does not know, leaves the choice to the model).
        expect([{ type: 'tool', name: 'web_search' }, { type: 'auto' }]).toContainEqual(
          (inner!.body as Json).tool_choice,
        );
        expect(inner!.response).toContain('"type":"server_tool_use"');
        expect(inner!.response).toContain('"type":"web_search_tool_result"');
        expect(inner!.response).toContain(HIT.url);
        // The WebSearch tool result Claude Code gave the main model carries the hit.
        const toolResult = run.events
          .filter((e) => e.type === 'user')
          .flatMap((e) => ((e.message as Json).content as Json[]) ?? [])
          .find((b) => b.type === 'tool_result');
        expect(JSON.stringify(toolResult), diagnostics()).toContain(HIT.url);
        const messageCalls = stack.captured.filter((c) => c.url.startsWith('/v1/messages'));
        expect(
          messageCalls.map((c) => c.status),
          diagnostics(),
        ).toEqual(messageCalls.map(() => 200));
      } finally {
        rmSync(project.dir, { recursive: true, force: true });
      }
    },
    120_000,
  );
});

describe.runIf(installed)('Claude Code WebFetch through abproxy (print mode)', () => {
  let stack: Stack;
  let page: Server;
  let certificate: ThrowAwayCertificate | undefined;
  let pageUrl: string;
  beforeAll(async () => {
    stack = await startStack();
    // Claude Code upgrades http:// to https://, so the page is served over TLS with a throw-away certificate.
    certificate = throwAwayCertificate();
    page = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<html><head><title>Flamingo notes</title></head><body><p>The flamingo code is ROSE-93.</p></body></html>',
      );
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', () => resolve()));
    pageUrl = `https://127.0.0.1:${(page.address() as AddressInfo).port}/notes`;
  }, 60_000);
  afterAll(async () => {
    await stack?.close();
    await new Promise<void>((resolve) => page?.close(() => resolve()));
    certificate?.remove();
  });

  it('fetches the page and answers from it', async () => {
    const project = tempProject('README.md', 'empty project\n');
    try {
      const model = 'qwen3-coder';
      stack.emulator.enqueue(
        {
          model,
          toolCalls: [{ name: 'WebFetch', input: { url: pageUrl, prompt: 'What is the flamingo code?' } }],
        },
        // Claude Code asks a model about the fetched page; the page's text is in that request.
        { model, text: 'Summary: the code on the page is ROSE-93.' },
        { model, text: 'The page gives the code ROSE-93.' },
      );
      const qwen = 'qwen.qwen3-coder-480b-a35b-v1:0';
      const run = await runClaude(stack, {
        prompt: `What is the flamingo code on ${pageUrl} ?`,
        cwd: project.dir,
        env: {
          ANTHROPIC_MODEL: qwen,
          ANTHROPIC_SMALL_FAST_MODEL: qwen,
          ANTHROPIC_DEFAULT_HAIKU_MODEL: qwen,
          NODE_EXTRA_CA_CERTS: certificate!.certPath,
        },
        // Offline, Claude Code's domain check against claude.ai would fail; its own setting skips it.
        args: ['--settings', JSON.stringify({ skipWebFetchPreflight: true })],
        timeoutMs: 90_000,
      });
      const calls = modelCalls(stack.emulator);
      const diagnostics = () =>
        `exit ${run.code}\nstderr: ${run.stderr}\ngateway: ${stack.gatewayLog()}\n` +
        stack.captured
          .map((c) => `${c.method} ${c.url} → ${c.status} ${c.response.slice(0, 300)}`)
          .join('\n') +
        `\nevents: ${run.stdout.slice(-3000)}`;
      expect(run.code, diagnostics()).toBe(0);
      expect(String(run.result?.result), diagnostics()).toContain('ROSE-93');
      // The page's own text reached a model through the gateway (Claude Code fetched it for real).
      expect(JSON.stringify(calls.map((c) => c.body)), diagnostics()).toContain(
        'The flamingo code is ROSE-93.',
      );
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  }, 120_000);
});

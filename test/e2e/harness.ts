/**
 * End-to-end stack for the real Claude Code CLI: the Bedrock emulator (in-process, so tests can script
 * it and read what reached "Bedrock"), `abproxy serve` as a child process configured only by env, and a
 * recording proxy between Claude Code and the gateway that keeps every request Claude Code sent and the
 * status the gateway gave it.
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Emulator, type RecordedRequest, startEmulator } from '../emulator/server.ts';
import { ROOT, runProcess, servingUrl, spawnAbproxy } from '../helpers/process.ts';

const root = ROOT;
export const MASTER_KEY = 'e2e-master-key';

/** The native binary npm installed; the platform package's copy if the wrapper stub was not replaced. */
export function claudeBinary(): string | undefined {
  const candidates = [
    join(root, 'node_modules/@anthropic-ai/claude-code/bin/claude.exe'),
    join(root, `node_modules/@anthropic-ai/claude-code-${process.platform}-${process.arch}/claude`),
  ];
  // The wrapper's placeholder is a tiny script; the real binary is hundreds of MB.
  return candidates.find((path) => existsSync(path) && statSize(path) > 1_000_000);
}

/** The Agent SDK's native Claude Code (its platform package), when npm installed it. */
export function agentSdkBinary(): string | undefined {
  const path = join(
    root,
    `node_modules/@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}/claude`,
  );
  return existsSync(path) && statSize(path) > 1_000_000 ? path : undefined;
}

function statSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface CapturedRequest {
  method: string;
  /** Path and query as Claude Code sent them (e.g. `/v1/messages?beta=true`). */
  url: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (inflated first when gzip-encoded); undefined for GET or non-JSON. */
  body: unknown;
  /** Status the gateway answered with. */
  status?: number;
  /** Raw response text (SSE or JSON), for diagnostics. */
  response: string;
}

export interface Stack {
  emulator: Emulator;
  gatewayUrl: string;
  /** What Claude Code should use as ANTHROPIC_BASE_URL. */
  proxyUrl: string;
  captured: CapturedRequest[];
  gatewayLog: () => string;
  /** The gateway's ABPROXY_HOME (its SQLite store and spool), for `abproxy usage` and the like. */
  gatewayHome: string;
  /** Clears emulator state and captures between tests. */
  reset(): void;
  close(): Promise<void>;
}

export async function startStack(gatewayEnv: Record<string, string> = {}): Promise<Stack> {
  const emulator = await startEmulator({ port: 0 });
  const home = mkdtempSync(join(tmpdir(), 'abproxy-e2e-gw-'));
  const gateway = await spawnGateway(
    {
      PATH: process.env.PATH ?? '',
      HOME: home,
      ABPROXY_HOME: home,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
      AWS_ENDPOINT_URL_BEDROCK: emulator.url,
      // The mantle Claude path's host (ABPROXY_CLAUDE_PATH=mantle): the emulator's second port.
      AWS_ENDPOINT_URL_BEDROCK_MANTLE: emulator.mantleUrl,
      AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
      AWS_SECRET_ACCESS_KEY: 'emulator-secret',
      AWS_REGION: 'us-east-1',
      MASTER_API_KEY: MASTER_KEY,
      LOG_LEVEL: 'warn',
      // Fixed, so the gateway's thinking signatures in golden captures are reproducible.
      ABPROXY_SIGNING_SECRET: 'e2e-signing-secret',
      ...gatewayEnv,
    },
    home,
  );
  const captured: CapturedRequest[] = [];
  const proxy = await startRecordingProxy(gateway.url, captured);
  return {
    emulator,
    gatewayUrl: gateway.url,
    proxyUrl: proxy.url,
    captured,
    gatewayLog: gateway.log,
    gatewayHome: home,
    reset() {
      emulator.reset();
      captured.length = 0;
    },
    async close() {
      await new Promise<void>((resolve) => proxy.server.close(() => resolve()));
      proxy.server.closeAllConnections();
      await gateway.stop();
      await emulator.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

async function spawnGateway(env: Record<string, string>, cwd: string) {
  const serve = spawnAbproxy(['serve', '--port', '0'], { env, cwd });
  const url = await servingUrl(serve);
  return { url, log: () => serve.output().stderr, stop: () => serve.stop() };
}

/** Forwards every request to the gateway unchanged, streaming the answer back, and records both sides. */
async function startRecordingProxy(target: string, captured: CapturedRequest[]) {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const entry: CapturedRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: parseBody(raw, req.headers['content-encoding']),
        response: '',
      };
      captured.push(entry);
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          entry.status = answer.statusCode;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.on('data', (c: Buffer) => {
            entry.response += c.toString();
            res.write(c);
          });
          answer.on('end', () => res.end());
          answer.on('error', () => res.destroy());
        },
      );
      forward.on('error', (err) => {
        entry.status = 502;
        entry.response = String(err);
        res.writeHead(502).end();
      });
      res.on('close', () => {
        if (!res.writableFinished) forward.destroy();
      });
      forward.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}` };
}

function parseBody(raw: Buffer, encoding: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  try {
    const text = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ClaudeRunOptions {
  prompt: string;
  cwd: string;
  /** Extra env (model selection and the like), on top of the clean offline set. */
  env?: Record<string, string>;
  args?: string[];
  timeoutMs?: number;
}

export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Every stream-json line Claude Code printed. */
  events: Record<string, unknown>[];
  stdout: string;
  stderr: string;
  /** The final `{"type":"result"}` event. */
  result?: Record<string, unknown>;
  /** The throw-away HOME it ran with (already removed), for normalising captures. */
  home: string;
}

/** Runs `claude -p` in print mode with stream-json output, offline, with a throw-away HOME. */
export async function runClaude(stack: Stack, options: ClaudeRunOptions): Promise<ClaudeRun> {
  const binary = claudeBinary();
  if (!binary) throw new Error('Claude Code is not installed (npm install did not place its native binary)');
  const home = mkdtempSync(join(tmpdir(), 'abproxy-e2e-home-'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    SHELL: '/bin/bash',
    TERM: 'dumb',
    ANTHROPIC_BASE_URL: stack.proxyUrl,
    ANTHROPIC_API_KEY: MASTER_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    // As root Claude Code refuses --dangerously-skip-permissions outside a sandbox.
    IS_SANDBOX: '1',
    ...options.env,
  };
  const args = [
    '-p',
    options.prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    '--dangerously-skip-permissions',
    ...(options.args ?? []),
  ];
  const { code, signal, stdout, stderr } = await runProcess(binary, args, {
    cwd: options.cwd,
    env,
    timeoutMs: options.timeoutMs ?? 45_000,
  });
  rmSync(home, { recursive: true, force: true });
  const events = stdout
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, signal, events, stdout, stderr, result: events.findLast((e) => e.type === 'result'), home };
}

/** Model calls that reached the emulator (runtime operations, not the catalogue look-ups). */
export function modelCalls(emulator: Emulator): RecordedRequest[] {
  return emulator.requests.filter((r) => r.modelId !== undefined && r.operation !== 'CountTokens');
}

/** A temp project directory holding one file with content a model could not guess. */
export function tempProject(fileName: string, content: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'abproxy-e2e-proj-'));
  const file = join(dir, fileName);
  writeFileSync(file, content);
  return { dir, file };
}

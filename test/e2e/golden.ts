/**
 * Golden captures of Claude Code's own request bodies (test/fixtures/claude-code/*.json).
 *
 * A capture is normalised so that it is the same on every machine and run: temp paths, session and
 * device ids, dates, the OS version and the billing line's build hash become placeholders; tool-use ids
 * are renumbered (pairs stay paired); very long texts (system prompt, tool descriptions) are cut, since
 * only their place in the body matters here. Thinking signatures are kept: with a fixed signing secret
 * they are deterministic and the translation tests need them to replay thinking.
 *
 * `requestShape` is what the e2e test compares with the golden file: keys, tool names, betas and the
 * thinking / output_config / context_management values, not the prose, so a Claude Code upgrade that
 * changes its request shapes shows up as a readable diff.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapturedRequest } from './harness.ts';

export const GOLDEN_DIR = join(import.meta.dirname, '../fixtures/claude-code');
const MAX_TEXT = 600;

export interface GoldenRequest {
  method: string;
  url: string;
  /** The `anthropic-beta` header, split. */
  betas: string[];
  anthropicVersion?: string;
  body: Record<string, unknown>;
}

export interface GoldenFile {
  /** Claude Code version that produced the capture (from its user-agent). */
  claudeCodeVersion: string;
  scenario: string;
  requests: GoldenRequest[];
}

export interface Volatile {
  /** Temp directories to replace, with their placeholder. */
  paths: Record<string, string>;
}

export function normaliseCaptures(
  captured: readonly CapturedRequest[],
  scenario: string,
  volatile: Volatile,
): GoldenFile {
  const ids = new Map<string, string>();
  const text = (value: string): string => {
    let out = value;
    for (const [path, placeholder] of Object.entries(volatile.paths)) out = out.replaceAll(path, placeholder);
    out = out
      .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
      .replace(/\b[0-9a-f]{64}\b/g, '<hex64>')
      .replace(/\b20\d\d-\d\d-\d\d\b/g, '<date>')
      .replace(/(OS Version: )[^\n]*/g, '$1<os>')
      .replace(/(cc_version=[\d.]+)\.[0-9a-z]+;/g, '$1.<hash>;')
      .replace(/\bcch=[0-9a-z]+;/g, 'cch=<hash>;')
      .replace(/<total_tokens>\d+/g, '<total_tokens><n>')
      .replace(/\b(toolu_bdrk_|tooluse_|toolu_)[A-Za-z0-9_-]+/g, (id) => {
        if (!ids.has(id)) ids.set(id, `toolu_golden_${ids.size + 1}`);
        return ids.get(id)!;
      });
    return out.length > MAX_TEXT ? `${out.slice(0, MAX_TEXT)}…[cut ${out.length - MAX_TEXT} chars]` : out;
  };
  const walk = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') return key === 'signature' ? value : text(value);
    if (Array.isArray(value)) return value.map((item) => walk(item));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    return value;
  };
  const messageCalls = captured.filter((c) => c.method === 'POST' && c.url.startsWith('/v1/messages'));
  const agent = String(captured[0]?.headers['user-agent'] ?? '');
  return {
    claudeCodeVersion: /claude-cli\/(\S+)/.exec(agent)?.[1] ?? 'unknown',
    scenario,
    requests: messageCalls.map((c) => ({
      method: c.method,
      url: c.url,
      betas: splitBetas(c.headers['anthropic-beta']),
      ...(c.headers['anthropic-version'] ? { anthropicVersion: String(c.headers['anthropic-version']) } : {}),
      body: walk(c.body) as Record<string, unknown>,
    })),
  };
}

function splitBetas(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}

type Json = Record<string, unknown>;

function blockShape(block: unknown): unknown {
  if (!block || typeof block !== 'object') return typeof block;
  const b = block as Json;
  return {
    type: b.type,
    keys: Object.keys(b).sort(),
    ...(b.cache_control ? { cache: b.cache_control } : {}),
  };
}

function contentShape(content: unknown): unknown {
  return Array.isArray(content) ? content.map(blockShape) : typeof content;
}

/** The parts of a request whose change means Claude Code now sends something new. */
export function requestShape(request: GoldenRequest) {
  const body = request.body;
  return {
    url: request.url,
    betas: [...request.betas].sort(),
    anthropicVersion: request.anthropicVersion,
    keys: Object.keys(body).sort(),
    model: body.model,
    max_tokens: body.max_tokens,
    stream: body.stream,
    thinking: body.thinking,
    output_config: body.output_config,
    context_management: body.context_management,
    metadata: body.metadata ? Object.keys(body.metadata as Json).sort() : undefined,
    system: contentShape(body.system),
    tools: ((body.tools as Json[] | undefined) ?? []).map((tool) => ({
      name: tool.name,
      keys: Object.keys(tool).sort(),
      ...(tool.defer_loading !== undefined ? { defer_loading: tool.defer_loading } : {}),
    })),
    messages: ((body.messages as Json[] | undefined) ?? []).map((m) => ({
      role: m.role,
      content: contentShape(m.content),
    })),
  };
}

export function goldenPath(scenario: string): string {
  return join(GOLDEN_DIR, `${scenario}.json`);
}

export function readGolden(scenario: string): GoldenFile | undefined {
  const path = goldenPath(scenario);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as GoldenFile) : undefined;
}

export function writeGolden(file: GoldenFile): void {
  mkdirSync(GOLDEN_DIR, { recursive: true });
  const path = goldenPath(file.scenario);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  // In the project's formatting, so `biome check .` stays clean after a refresh.
  const biome = join(import.meta.dirname, '../../node_modules/@biomejs/biome/bin/biome');
  spawnSync(process.execPath, [biome, 'format', '--write', path], { stdio: 'ignore' });
}

export const updatingGolden = process.env.UPDATE_GOLDEN === '1';

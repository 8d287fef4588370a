/**
 * Bedrock accepts tool names matching [a-zA-Z0-9_-]{1,64}; Anthropic allows more (e.g. `mcp__srv.tool`,
 * dots, colons, 128 characters). ToolNameMap gives each Anthropic name a valid Bedrock name and maps it
 * back, deterministically, so the same request always produces the same upstream names (prompt caching)
 * and a name seen only in history translates the same way as in `tools`.
 */
import { createHash } from 'node:crypto';

const VALID = /^[a-zA-Z0-9_-]{1,64}$/;

function bedrockNameFor(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_') || 'tool';
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  // The hash suffix keeps distinct names distinct after cleaning/truncation.
  return `${cleaned.slice(0, 64 - 9)}_${hash}`;
}

export class ToolNameMap {
  readonly #toBedrock = new Map<string, string>();
  readonly #toAnthropic = new Map<string, string>();

  constructor(names: Iterable<string> = []) {
    for (const name of names) this.toBedrock(name);
  }

  /** The Bedrock-valid name for an Anthropic tool name (registered on first use). */
  toBedrock(name: string): string {
    const known = this.#toBedrock.get(name);
    if (known !== undefined) return known;
    const mapped = VALID.test(name) && !this.#toAnthropic.has(name) ? name : bedrockNameFor(name);
    this.#toBedrock.set(name, mapped);
    this.#toAnthropic.set(mapped, name);
    return mapped;
  }

  /** The client's name for a name the model produced; unknown names come back unchanged. */
  toAnthropic(name: string): string {
    return this.#toAnthropic.get(name) ?? name;
  }
}

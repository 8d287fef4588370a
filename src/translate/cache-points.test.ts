import type { ContentBlock, SystemContentBlock, Tool } from '@aws-sdk/client-bedrock-runtime';
import { describe, expect, it } from 'vitest';
import { countCachePoints, limitCachePoints } from './cache-points.ts';

const point = { cachePoint: { type: 'default' as const } };

function request() {
  const tools: Tool[] = [{ toolSpec: { name: 't', inputSchema: { json: { type: 'object' } } } }, point];
  const system: SystemContentBlock[] = [{ text: 's1' }, point, { text: 's2' }, point];
  const turn = (text: string): ContentBlock[] => [{ text }, point];
  return {
    toolConfig: { tools },
    system,
    messages: [
      { role: 'user' as const, content: turn('u1') },
      { role: 'assistant' as const, content: turn('a1') },
      { role: 'user' as const, content: turn('u2') },
    ],
  };
}

describe('limitCachePoints', () => {
  it('keeps the last four cache points in prompt order (tools, system, messages)', () => {
    const input = request();
    expect(countCachePoints(input)).toBe(6);
    expect(limitCachePoints(input)).toBe(2);
    expect(countCachePoints(input)).toBe(4);
    // The earliest two (after the tool and after s1) are gone; the rest stay where they were.
    expect(input.toolConfig.tools).toHaveLength(1);
    expect(input.system).toEqual([{ text: 's1' }, { text: 's2' }, point]);
    expect(input.messages.every((m) => m.content.at(-1) === point)).toBe(true);
  });

  it('leaves a request within the limit alone', () => {
    const input = request();
    expect(limitCachePoints(input, 6)).toBe(0);
    expect(countCachePoints(input)).toBe(6);
  });
});

import { describe, expect, it } from 'vitest';
import type { MessageParam } from '../anthropic/types.ts';
import { dropForeignThinking, toolLoopLacksThinking } from './invoke-thinking-history.ts';

const toolUse = { type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} } as const;
const toolResult: MessageParam = {
  role: 'user',
  content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }],
};

describe('dropForeignThinking', () => {
  it("removes an open model's gateway-signed and unsigned thinking, keeps Claude's", () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'from gpt-oss', signature: 'abp1.xyz' },
          { type: 'thinking', thinking: 'unsigned', signature: '' },
          { type: 'thinking', thinking: 'from Claude', signature: 'EqQBCkYIBxgCKkB' },
          toolUse,
        ],
      },
      toolResult,
    ];
    const { messages: out, dropped } = dropForeignThinking(messages);
    expect(dropped).toBe(2);
    expect(out[1]!.content).toEqual([
      { type: 'thinking', thinking: 'from Claude', signature: 'EqQBCkYIBxgCKkB' },
      toolUse,
    ]);
    expect(messages[1]!.content).toHaveLength(4); // the client's request is not mutated
  });

  it("removes an open model's redacted reasoning (marked by the gateway), keeps Claude's", () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'hi' },
      {
        role: 'assistant',
        content: [
          { type: 'redacted_thinking', data: 'abpr1.b3BhcXVl' },
          { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
          toolUse,
        ],
      },
      toolResult,
    ];
    const { messages: out, dropped } = dropForeignThinking(messages);
    expect(dropped).toBe(1);
    expect(out[1]!.content).toEqual([{ type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' }, toolUse]);
  });

  it('returns the same array when there is nothing to drop', () => {
    const messages: MessageParam[] = [{ role: 'user', content: 'hi' }];
    expect(dropForeignThinking(messages).messages).toBe(messages);
  });
});

describe('toolLoopLacksThinking', () => {
  it('is true when the tool loop began on a turn without thinking', () => {
    expect(
      toolLoopLacksThinking([
        { role: 'user', content: 'x' },
        { role: 'assistant', content: [toolUse] },
        toolResult,
      ]),
    ).toBe(true);
  });

  it('is false when that turn starts with thinking, or when no tool result is pending', () => {
    const withThinking: MessageParam = {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 't', signature: 's' }, toolUse],
    };
    expect(toolLoopLacksThinking([{ role: 'user', content: 'x' }, withThinking, toolResult])).toBe(false);
    expect(toolLoopLacksThinking([{ role: 'user', content: 'x' }])).toBe(false);
  });
});

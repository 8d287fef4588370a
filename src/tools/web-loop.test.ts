import { describe, expect, it } from 'vitest';
import type { MessagesRequest, StreamEvent, Usage } from '../anthropic/types.ts';
import { foldStream } from '../translate/fold-stream.ts';
import { messageStart } from '../translate/stream-events.fixture.ts';
import type { WebTools } from './web/types.ts';
import { type LoopRound, WebLoop, type WebLoopOptions } from './web-loop.ts';

const USAGE: Usage = {
  input_tokens: 10,
  output_tokens: 2,
  cache_creation_input_tokens: null,
  cache_read_input_tokens: 3,
};

/** A model call that searches for `query` (or answers `text`), as the path's translators emit it. */
function round(turn: { query?: string; text?: string }): LoopRound {
  const events: StreamEvent[] = [messageStart(USAGE)];
  if (turn.text !== undefined) {
    events.push(
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: turn.text } },
      { type: 'content_block_stop', index: 0 },
    );
  } else {
    events.push(
      {
        type: 'content_block_start',
        index: 0,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'web_search', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify({ query: turn.query }) },
      },
      { type: 'content_block_stop', index: 0 },
    );
  }
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: turn.text !== undefined ? 'end_turn' : 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 10,
        output_tokens: 2,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: 3,
      },
    },
    { type: 'message_stop' },
  );
  return {
    events: (async function* () {
      yield* events;
    })(),
    usage: () => USAGE,
  };
}

const tools = (queries: string[]): WebTools => ({
  search: {
    name: 'test',
    search: async (q) => {
      queries.push(q.query);
      return [{ url: 'https://example.com/', title: 'Example', content: 'Example text.' }];
    },
  },
  fetch: async () => {
    throw new Error('not used');
  },
});

const REQUEST: MessagesRequest = {
  model: 'm',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'search please' }],
  tools: [{ type: 'web_search_20250305', name: 'web_search', input_schema: {} }],
};

/** A loop over REQUEST with web search only, its searches recorded in `queries`. */
const searchLoop = (
  queries: string[],
  options: Pick<WebLoopOptions, 'openRound'> & Partial<WebLoopOptions>,
) =>
  new WebLoop({
    request: REQUEST,
    spec: { search: { name: 'web_search' } },
    tools: tools(queries),
    secret: 's',
    ...options,
  });

async function run(loop: WebLoop): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const event of loop.events()) out.push(event);
  return out;
}

describe('WebLoop', () => {
  it('ends with pause_turn when the model keeps searching past the round limit, usage summed', async () => {
    const queries: string[] = [];
    const requests: MessagesRequest[] = [];
    const loop = searchLoop(queries, {
      maxRounds: 2,
      openRound: async (request) => {
        requests.push(request);
        return round({ query: `q${requests.length}` });
      },
    });
    const message = foldStream(await run(loop));
    expect(message.stop_reason).toBe('pause_turn');
    expect(message.content.map((b) => b.type)).toEqual([
      'server_tool_use',
      'web_search_tool_result',
      'server_tool_use',
      'web_search_tool_result',
    ]);
    expect(queries).toEqual(['q1', 'q2']);
    expect(message.usage).toMatchObject({
      input_tokens: 20,
      output_tokens: 4,
      cache_read_input_tokens: 6,
      server_tool_use: { web_search_requests: 2, web_fetch_requests: 0 },
    });
    // The second call carried the first call's tool_use and its result.
    const second = requests[1]!.messages;
    expect(second.at(-2)).toMatchObject({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1' }],
    });
    expect(second.at(-1)).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1' }],
    });
  });

  it('past the time budget a search fails as unavailable and the model answers', async () => {
    const queries: string[] = [];
    let clock = 0;
    let calls = 0;
    const loop = searchLoop(queries, {
      timeBudgetMs: 1_000,
      now: () => clock,
      openRound: async () => {
        calls++;
        clock += 5_000;
        return calls === 1 ? round({ query: 'late' }) : round({ text: 'Answer without it.' });
      },
    });
    const message = foldStream(await run(loop));
    expect(queries).toEqual([]);
    expect(message.content[1]).toMatchObject({
      type: 'web_search_tool_result',
      content: { type: 'web_search_tool_result_error', error_code: 'unavailable' },
    });
    expect(message.content[2]).toMatchObject({ type: 'text', text: 'Answer without it.' });
    expect(message.stop_reason).toBe('end_turn');
  });

  it('a malformed tool input is invalid_tool_input, never a search', async () => {
    const queries: string[] = [];
    let calls = 0;
    const loop = searchLoop(queries, {
      openRound: async () => (++calls === 1 ? round({ query: '' }) : round({ text: 'ok' })),
    });
    const message = foldStream(await run(loop));
    expect(message.content[1]).toMatchObject({ content: { error_code: 'invalid_tool_input' } });
    expect(queries).toEqual([]);
  });
});

/** Shared by the stream translators' tests. */
import type { StreamEvent, Usage } from '../anthropic/types.ts';

/** The event types of a turn that answers with one text block. */
export const ONE_TEXT_BLOCK = [
  'message_start',
  'content_block_start',
  'content_block_delta',
  'content_block_stop',
  'message_delta',
  'message_stop',
];

/** The message_start of an empty assistant message (id msg_1, model m) with this usage. */
export function messageStart(usage: Usage): StreamEvent {
  return {
    type: 'message_start',
    message: {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  };
}

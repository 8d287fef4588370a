/** For stream tests: the message_start of an empty assistant message (id msg_1, model m) with this usage. */
import type { StreamEvent, Usage } from '../anthropic/types.ts';

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

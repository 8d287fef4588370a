/**
 * Anthropic stream events → the message they describe, accumulated the way the Anthropic SDK's
 * MessageStream does (text and thinking appended, tool input JSON parsed at the block's end, the
 * signature replaced, message_delta's stop and usage merged over message_start's). Pure.
 */
import { ApiError } from '../anthropic/errors.ts';
import type { ContentBlock, MessagesResponse, StreamEvent } from '../anthropic/types.ts';

function broken(what: string): ApiError {
  return new ApiError('api_error', `stream cannot be folded into a message: ${what}`);
}

/** A tool block's streamed input; JSON a model got wrong is its upstream's fault (502), not ours (500). */
function toolInput(json: string, index: number): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new ApiError('api_error', `the model's input for tool block ${index} is not valid JSON`, {
      status: 502,
    });
  }
}

export function foldStream(events: readonly StreamEvent[]): MessagesResponse {
  let message: MessagesResponse | undefined;
  const toolJson = new Map<number, string>();
  const block = (index: number): ContentBlock => {
    const found = message?.content[index];
    if (!found) throw broken(`no open block ${index}`);
    return found;
  };
  for (const event of events) {
    if (event.type === 'message_start') {
      message = { ...event.message, content: [], usage: { ...event.message.usage } };
      continue;
    }
    if (message === undefined) throw broken(`${event.type} before message_start`);
    switch (event.type) {
      case 'content_block_start':
        message.content[event.index] = { ...event.content_block } as ContentBlock;
        break;
      case 'content_block_delta': {
        const target = block(event.index);
        const { delta } = event;
        if (delta.type === 'text_delta' && target.type === 'text') target.text += delta.text;
        else if (delta.type === 'thinking_delta' && target.type === 'thinking')
          target.thinking += delta.thinking;
        else if (delta.type === 'signature_delta' && target.type === 'thinking')
          target.signature = delta.signature;
        else if (
          delta.type === 'input_json_delta' &&
          (target.type === 'tool_use' || target.type === 'server_tool_use')
        )
          toolJson.set(event.index, (toolJson.get(event.index) ?? '') + delta.partial_json);
        else if (delta.type === 'citations_delta' && target.type === 'text')
          target.citations = [...(target.citations ?? []), delta.citation];
        else if (delta.type !== 'citations_delta') throw broken(`${delta.type} in a ${target.type} block`);
        break;
      }
      case 'content_block_stop': {
        const target = block(event.index);
        const json = toolJson.get(event.index);
        if ((target.type === 'tool_use' || target.type === 'server_tool_use') && json !== undefined)
          target.input = json === '' ? {} : toolInput(json, event.index);
        break;
      }
      case 'message_delta': {
        message.stop_reason = event.delta.stop_reason;
        message.stop_sequence = event.delta.stop_sequence;
        const usage = message.usage;
        const delta = event.usage;
        usage.output_tokens = delta.output_tokens;
        if (delta.input_tokens !== null) usage.input_tokens = delta.input_tokens;
        if (delta.cache_creation_input_tokens !== null)
          usage.cache_creation_input_tokens = delta.cache_creation_input_tokens;
        if (delta.cache_read_input_tokens !== null)
          usage.cache_read_input_tokens = delta.cache_read_input_tokens;
        if (delta.server_tool_use) usage.server_tool_use = { ...delta.server_tool_use };
        break;
      }
      case 'message_stop':
      case 'ping':
        break;
      case 'error':
        throw broken(`error event ${event.error.type}`);
      default: {
        const unreachable: never = event;
        throw broken(`unknown event ${JSON.stringify(unreachable)}`);
      }
    }
  }
  if (message === undefined) throw broken('no message_start');
  return message;
}

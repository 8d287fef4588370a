/** How much of a fetched page or a search hit reaches the model. Pure. */

/** Characters per token for `max_content_tokens`: a common average, not a tokenizer. */
export const CHARS_PER_TOKEN = 4;

/**
 * A fetched page's text when the tool sets no `max_content_tokens`. Without one, a page of megabytes
 * went to the model whole and the whole request failed as "prompt is too long"; this fits the context
 * windows of today's tool-using models (128k tokens and more) with room for the conversation.
 */
export const DEFAULT_FETCH_TOKENS = 64_000;

/** A search hit's text: a snippet, not a page (a provider may send whole pages as `content`). */
export const MAX_HIT_CHARS = 8_000;

/** Cuts text to about `maxTokens` tokens (4 characters each) and says where it was cut. */
export function cutToTokens(text: string, maxTokens: number | undefined): string {
  const limit = maxTokens === undefined || maxTokens <= 0 ? DEFAULT_FETCH_TOKENS : maxTokens;
  const max = limit * CHARS_PER_TOKEN;
  if (text.length <= max) return text;
  const why = limit === maxTokens ? 'max_content_tokens' : 'the default when max_content_tokens is not set';
  return `${cutAt(text, max)}\n\n[…cut at about ${limit} tokens (${why})]`;
}

/**
 * A fetched page's title: a line, not a page. The page writes it, and it reaches the model beside the
 * text max_content_tokens cuts: a 200 kB <title> went whole.
 */
export const MAX_TITLE_CHARS = 300;

/** A fetched page's title cut to MAX_TITLE_CHARS. */
export function cutTitle(title: string): string {
  return title.length <= MAX_TITLE_CHARS ? title : `${cutAt(title, MAX_TITLE_CHARS)}…`;
}

/** A search hit's content cut to MAX_HIT_CHARS. */
export function cutHit(content: string): string {
  return content.length <= MAX_HIT_CHARS ? content : `${cutAt(content, MAX_HIT_CHARS)}…`;
}

/** The first `max` characters, without splitting a surrogate pair. */
function cutAt(text: string, max: number): string {
  const code = text.charCodeAt(max - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

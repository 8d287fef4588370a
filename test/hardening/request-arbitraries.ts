/**
 * Request bodies a client could send, for the property and fuzz tests: well-formed shapes with odd
 * strings and deep or large values, malformed shapes (any value in any field), and anything at all.
 */
import fc from 'fast-check';

const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\ud800', 'a\udc00b', '\u0000', '\u001b[41m', '\u2028', '\ufeff', 'é😀', ' '),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const nested = fc.integer({ min: 60, max: 400 }).map((depth) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { k: value };
  return value;
});
const jsonish = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: nested },
);
/** Sometimes the right kind of value, sometimes anything at all. */
const maybe = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: good }, { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) });

const base64 = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
  fc.constantFrom('iVBORw0KGgo=', 'not base64!', 'abc', '', 'YWJj\nZA=='),
);
const model = maybe(
  fc.oneof(
    fc.constantFrom(
      'claude-sonnet-4-5',
      'claude-opus-4-6',
      'qwen.qwen3-32b-v1:0',
      `claude-${'['.repeat(300)}`,
    ),
    oddString,
  ),
);
const text = maybe(oddString);
const block = fc.oneof(
  fc.record({ type: fc.constant('text'), text }),
  fc.record({
    type: fc.constant('image'),
    source: maybe(
      fc.record({ type: fc.constant('base64'), media_type: fc.constant('image/png'), data: maybe(base64) }),
    ),
  }),
  fc.record({
    type: fc.constant('document'),
    source: maybe(
      fc.oneof(
        fc.record({
          type: fc.constant('base64'),
          media_type: fc.constant('application/pdf'),
          data: maybe(base64),
        }),
        fc.record({ type: fc.constant('text'), media_type: fc.constant('text/plain'), data: text }),
      ),
    ),
    title: fc.option(oddString, { nil: undefined }),
  }),
  fc.record({
    type: fc.constant('tool_use'),
    id: maybe(fc.constantFrom('t1', 't2')),
    name: text,
    input: maybe(jsonish),
  }),
  fc.record({
    type: fc.constant('tool_result'),
    tool_use_id: maybe(fc.constantFrom('t1', 't2')),
    content: maybe(text),
  }),
  fc.record({ type: fc.constant('thinking'), thinking: text, signature: text }),
  fc.record({ type: maybe(oddString) }, { requiredKeys: [] }),
  fc.anything({ maxDepth: 2 }),
);
const message = fc.record(
  {
    role: maybe(fc.constantFrom('user', 'assistant', 'system')),
    content: fc.oneof(text, fc.array(block, { maxLength: 4 })),
  },
  { requiredKeys: [] },
);
const tool = fc.record(
  {
    name: maybe(fc.oneof(fc.constantFrom('Read', 'Bash'), oddString)),
    input_schema: maybe(jsonish),
    description: text,
  },
  { requiredKeys: [] },
);
const request = fc.record(
  {
    model,
    max_tokens: maybe(fc.integer({ min: -5, max: 200_000 })),
    messages: maybe(fc.array(message, { minLength: 1, maxLength: 4 })),
    system: maybe(
      fc.oneof(oddString, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 2 })),
    ),
    tools: maybe(fc.array(tool, { maxLength: 3 })),
    tool_choice: maybe(
      fc.record({
        type: fc.constantFrom('auto', 'any', 'tool', 'none'),
        name: fc.constantFrom('Read', 'zzz'),
      }),
    ),
    thinking: maybe(
      fc.record({
        type: fc.constantFrom('enabled', 'adaptive', 'disabled'),
        budget_tokens: fc.integer({ min: 0, max: 100_000 }),
      }),
    ),
    temperature: maybe(fc.double()),
    top_k: maybe(fc.integer()),
    stop_sequences: maybe(fc.array(oddString, { maxLength: 2 })),
    metadata: maybe(fc.record({ user_id: text, extra: jsonish }, { requiredKeys: [] })),
    stream: maybe(fc.boolean()),
    extra_field: jsonish,
  },
  { requiredKeys: [] },
);
/** Well-formed in shape (mostly accepted), with odd strings, large and deep values where they are free. */
const goodText = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }),
);
const validish = fc.record(
  {
    model: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constantFrom('claude-sonnet-4-5', 'claude-opus-4-6', 'qwen.qwen3-32b-v1:0'),
      },
      { weight: 1, arbitrary: oddString },
    ),
    max_tokens: fc.integer({ min: 1, max: 100_000 }),
    messages: fc.array(
      fc.record({
        role: fc.constant('user'),
        content: fc.oneof(
          goodText,
          fc.array(
            fc.oneof(
              fc.record({ type: fc.constant('text'), text: goodText }),
              fc.record({
                type: fc.constant('image'),
                source: fc.record({
                  type: fc.constant('base64'),
                  media_type: fc.constant('image/png'),
                  data: base64,
                }),
              }),
              fc.record({
                type: fc.constant('document'),
                source: fc.record({
                  type: fc.constant('text'),
                  media_type: fc.constant('text/plain'),
                  data: goodText,
                }),
                title: fc.option(oddString, { nil: undefined }),
              }),
            ),
            { minLength: 1, maxLength: 3 },
          ),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    system: goodText,
    tools: fc.uniqueArray(
      fc.record({
        name: fc.constantFrom('Read', 'Bash', 'mcp__x__y'),
        input_schema: fc.dictionary(fc.string(), jsonish),
      }),
      { maxLength: 3, selector: (t) => t.name },
    ),
    tool_choice: fc.record({ type: fc.constantFrom('auto', 'tool'), name: fc.constantFrom('Read', 'zzz') }),
    temperature: fc.double({ min: 0, max: 1, noNaN: true }),
    metadata: fc.record({ user_id: goodText, extra: jsonish }),
    stream: fc.boolean(),
  },
  { requiredKeys: ['model', 'max_tokens', 'messages'] },
);
export const anyBody = fc.oneof(
  { weight: 6, arbitrary: validish },
  { weight: 4, arbitrary: request },
  { weight: 1, arbitrary: fc.anything() },
);

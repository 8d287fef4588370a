/**
 * Who spent a request, as far as the client says: Claude Code's session and agent ids and the request's
 * `metadata.user_id`. They are the client's strings, so each is made safe before it is stored: cut to a
 * bounded length, with control characters, bidi controls and unpaired surrogates replaced, so no value
 * can break a report, a CSV file, a DynamoDB item or the terminal that shows it.
 *
 * What Claude Code 2.1.332 sends (observed through a recording proxy with a subagent that starts a
 * nested one; test/e2e/claude-code-subagent.test.ts checks it on every run):
 * - every request: `x-claude-code-session-id: <uuid>`, the same for the main agent and all subagents;
 * - the main agent: no agent header at all;
 * - a subagent (the Agent tool, formerly Task): `x-claude-code-agent-id: a<16 hex>`, a new id per
 *   subagent, and no parent header when the main agent started it;
 * - a nested subagent: `x-claude-code-parent-agent-id` = the agent id of the subagent that started it;
 * - no `traceparent` (its OpenTelemetry export is its own business);
 * - body `metadata.user_id`: a JSON string `{"device_id":…,"account_uuid":…,"session_id":…}`.
 * So in reports a record without an agent id is the session's main agent, and a subagent without a
 * parent id was started by the main agent (src/usage/report.ts).
 */
import { boundText } from './bounds.ts';

/** Session and agent ids are short (a uuid, `a` + 16 hex); room for other clients' formats. */
export const MAX_ATTRIBUTION_ID = 128;
/** `metadata.user_id` (Claude Code's is a ~150 character JSON string). */
export const MAX_USER_ID = 256;

export const SESSION_HEADER = 'x-claude-code-session-id';
export const AGENT_HEADER = 'x-claude-code-agent-id';
export const PARENT_AGENT_HEADER = 'x-claude-code-parent-agent-id';

export interface Attribution {
  sessionId?: string;
  agentId?: string;
  parentAgentId?: string;
  userId?: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * A client's label made safe to store and show: unprintable characters become U+FFFD (visible, and
 * never acted upon), surrounding spaces go, then the text is cut to `max`. Undefined when nothing is left.
 */
export function cleanLabel(value: unknown, max = MAX_ATTRIBUTION_ID): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.toWellFormed().replace(UNPRINTABLE, '\uFFFD').trim();
  return text === '' ? undefined : boundText(text, max);
}

type Headers = Record<string, string | string[] | undefined>;

/** The attribution of one request from its headers (node's lower-cased names) and `metadata.user_id`. */
export function attributionOf(headers: Headers, userId?: unknown): Attribution {
  const out: Attribution = {};
  const sessionId = cleanLabel(headers[SESSION_HEADER]);
  const agentId = cleanLabel(headers[AGENT_HEADER]);
  const parentAgentId = cleanLabel(headers[PARENT_AGENT_HEADER]);
  const user = cleanLabel(userId, MAX_USER_ID);
  if (sessionId) out.sessionId = sessionId;
  if (agentId) out.agentId = agentId;
  if (parentAgentId) out.parentAgentId = parentAgentId;
  if (user) out.userId = user;
  return out;
}

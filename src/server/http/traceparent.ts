/**
 * The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header):
 * `version-traceid-parentid-flags`, lower-case hex. Parsed strictly so a hostile value never becomes a
 * trace id (it goes into a response header, a log line and a usage record): anything malformed is
 * ignored, as the spec says a receiver must.
 */

const VERSION_00 = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
/** A later version: the same four fields first; more may follow after a `-` (the spec's forward rule). */
const FUTURE_VERSION = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/s;
const ALL_ZERO = /^0+$/;
/** Longest header we look at; a version-00 value is 55 characters. */
const MAX_LENGTH = 512;

export interface TraceParent {
  traceId: string;
  parentId: string;
  flags: string;
}

/** The trace id and parent of a `traceparent` value, or undefined when it is absent or malformed. */
export function parseTraceparent(value: string | string[] | undefined): TraceParent | undefined {
  // Sent twice (an array, or joined by node): ambiguous, so ignored.
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
  const text = value.trim();
  let match = VERSION_00.exec(text);
  let fields: [string, string, string] | undefined;
  if (match) fields = [match[1]!, match[2]!, match[3]!];
  else {
    match = FUTURE_VERSION.exec(text);
    // Version 00 must be exactly its four fields; ff is forbidden.
    if (!match || match[1] === '00' || match[1] === 'ff') return undefined;
    fields = [match[2]!, match[3]!, match[4]!];
  }
  const [traceId, parentId, flags] = fields;
  if (ALL_ZERO.test(traceId) || ALL_ZERO.test(parentId)) return undefined;
  return { traceId, parentId, flags };
}

/** Just the trace id (32 lower-case hex) of a `traceparent` value. */
export function traceIdOf(value: string | string[] | undefined): string | undefined {
  return parseTraceparent(value)?.traceId;
}

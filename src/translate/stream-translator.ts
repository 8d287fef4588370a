/**
 * What the stream pump needs from a translator: an I/O-free state machine from the upstream's events
 * to the client's SSE events. Converse builds every event; the native path forwards most of Claude's
 * own events as the bytes Bedrock sent (`frame`, already formatted), so both kinds can come out.
 */
import type { StreamEvent, Usage } from '../anthropic/types.ts';

/** An SSE frame already formatted (`event: …\ndata: …\n\n`), with its event type. */
export interface FormattedEvent {
  type: StreamEvent['type'];
  frame: string;
}

export type OutgoingEvent = StreamEvent | FormattedEvent;

export interface StreamTranslator<UpstreamEvent> {
  /** Events to send before the first upstream event. */
  start(): OutgoingEvent[];
  /** One upstream event → the client's events; throws on an exception event or a broken order. */
  push(event: UpstreamEvent): OutgoingEvent[];
  /** The upstream ended: the closing events; throws when it ended too early. */
  end(): OutgoingEvent[];
  /** The usage to bill: final after end(), else what was seen so far (a cut stream). */
  usage(): Usage;
  /** Whether usage() is the gateway's estimate (the stream ended before Bedrock's final counts). */
  readonly usageIsEstimated: boolean;
  /** Lossy steps seen in the events (after the headers went out: for the log only). */
  readonly warnings?: readonly string[];
}

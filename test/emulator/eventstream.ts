/** `application/vnd.amazon.eventstream` frames as Bedrock sends them. */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function stringHeader(value: string) {
  return { type: 'string' as const, value };
}

export function eventFrame(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': stringHeader(eventType),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('event'),
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** Stream exception names are the union members' names: lowerCamel (throttlingException, …). */
export function streamExceptionType(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function exceptionFrame(name: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': stringHeader(streamExceptionType(name)),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('exception'),
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}

/** Bedrock pads events with a random `p` field so lengths do not leak content. */
export function padding(seed: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let out = '';
  for (let i = 0; i < 1 + (seed % 24); i++) out += alphabet[(seed * 7 + i * 13) % alphabet.length];
  return out;
}

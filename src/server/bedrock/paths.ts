/**
 * The Bedrock-format door's URL space on the gateway's port: the runtime calls under `/model/…` and the
 * control-plane reads clients make at start-up. Paths are read raw (before percent-decoding), so a model
 * ARN encoded into one segment (`arn%3Aaws%3A…%2F…`) and one sent with bare slashes both parse.
 */
import { FORWARD_OPERATIONS, type ForwardOperation } from '../../upstream/runtime.ts';

const CONTROL_ROOTS = ['/foundation-models', '/inference-profiles'] as const;
const CONTROL_PREFIXES = CONTROL_ROOTS.map((root) => `${root}/`);

/** Longest model id accepted (Bedrock's own limit on ARNs is 2048). */
export const MAX_MODEL_ID_CHARS = 2048;

export interface RuntimeCall {
  /** Undefined for an operation Bedrock Runtime does not have (a 404 UnknownOperationException). */
  operation: ForwardOperation | undefined;
  /** The raw last segment (for the error message). */
  operationName: string;
  /** Still percent-encoded; `decodeModelId` decodes and checks it. */
  encodedModelId: string;
}

/** Whether a path is the door's: its errors are then answered in Bedrock's shape. */
export function isDoorPath(pathname: string): boolean {
  // Asked by several middlewares on every request: /v1/… is told apart by its second character.
  const second = pathname.charCodeAt(1);
  if (second !== 0x6d /* m */ && second !== 0x66 /* f */ && second !== 0x69 /* i */) return false;
  if (pathname.startsWith('/model/')) return true;
  for (let i = 0; i < CONTROL_ROOTS.length; i++) {
    if (pathname === CONTROL_ROOTS[i] || pathname.startsWith(CONTROL_PREFIXES[i]!)) return true;
  }
  return false;
}

/** `/model/{id}/{operation}` → its parts; null when the path is not of that form. */
export function runtimeCall(pathname: string): RuntimeCall | null {
  if (!pathname.startsWith('/model/')) return null;
  const rest = pathname.slice('/model/'.length);
  const slash = rest.lastIndexOf('/');
  // `/model//converse` is a call with an empty model id (Bedrock's modelId ValidationException), not an
  // unknown operation.
  if (slash < 0 || slash === rest.length - 1) return null;
  const operationName = rest.slice(slash + 1);
  const operation = (FORWARD_OPERATIONS as readonly string[]).includes(operationName)
    ? (operationName as ForwardOperation)
    : undefined;
  return { operation, operationName, encodedModelId: rest.slice(0, slash) };
}

/** The metered operation of a door path (what the metering middleware counts), else undefined. */
export function doorOperation(pathname: string): ForwardOperation | undefined {
  return runtimeCall(pathname)?.operation;
}

export function isStreamOperation(operation: ForwardOperation): boolean {
  return operation === 'invoke-with-response-stream' || operation === 'converse-stream';
}

export type ModelIdCheck = { ok: true; modelId: string } | { ok: false; reason: string };

/** Percent-decodes a model id and refuses what no Bedrock id can be (controls, bad escapes, huge). */
export function decodeModelId(encoded: string): ModelIdCheck {
  if (encoded.length > MAX_MODEL_ID_CHARS * 3) return { ok: false, reason: 'is too long' };
  let modelId: string;
  try {
    modelId = decodeURIComponent(encoded);
  } catch {
    return { ok: false, reason: 'is not valid percent-encoding' };
  }
  if (modelId.length === 0) return { ok: false, reason: 'is empty' };
  if (modelId.length > MAX_MODEL_ID_CHARS) return { ok: false, reason: 'is too long' };
  // Bedrock ids, profile ids and ARNs are printable ASCII.
  if (!/^[\x21-\x7e]+$/.test(modelId)) return { ok: false, reason: 'holds characters no model id has' };
  return { ok: true, modelId };
}

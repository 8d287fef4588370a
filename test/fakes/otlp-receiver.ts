/**
 * A local OTLP/HTTP traces receiver for the tests: a node:http server on `/v1/traces` that takes both
 * protocols the gateway exports (http/json, and http/protobuf through a small wire-format decoder of the
 * OTLP trace messages) and collects the spans in one plain shape.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** Start and end, in milliseconds since the epoch. */
  startMs: number;
  endMs: number;
  resource: Record<string, AttributeValue>;
}

export interface OtlpReceiver {
  /** Base URL (what OTEL_EXPORTER_OTLP_ENDPOINT takes). */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  contentTypes: string[];
  /** Paths of the requests received (any path: a wrong one shows up here). */
  paths: string[];
  headers: http.IncomingHttpHeaders[];
  /** Resolves when `predicate` holds for the spans received (polling), or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

// ---- OTLP JSON ----

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}
type JsonKeyValue = { key: string; value?: JsonAnyValue };

function jsonValue(v: JsonAnyValue | undefined): AttributeValue {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(jsonValue);
  return undefined;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}

function fromJson(body: Buffer): ReceivedSpan[] {
  // biome-ignore lint/suspicious/noExplicitAny: the OTLP JSON document
  const doc = JSON.parse(body.toString('utf8')) as any;
  const spans: ReceivedSpan[] = [];
  for (const rs of doc.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          attributes: jsonAttributes(s.attributes),
          // biome-ignore lint/suspicious/noExplicitAny: OTLP JSON
          events: (s.events ?? []).map((e: any) => ({
            name: e.name,
            attributes: jsonAttributes(e.attributes),
          })),
          statusCode: s.status?.code ?? 0,
          startMs: Number(BigInt(s.startTimeUnixNano ?? 0) / 1_000_000n),
          endMs: Number(BigInt(s.endTimeUnixNano ?? 0) / 1_000_000n),
          resource,
        });
      }
    }
  }
  return spans;
}

// ---- OTLP protobuf (wire format) ----

type Field = { no: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function varint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, at];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [tag, next] = varint(buf, at);
    at = next;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [value, after] = varint(buf, at);
      out.push({ no, varint: value });
      at = after;
    } else if (wire === 2) {
      const [length, after] = varint(buf, at);
      out.push({ no, bytes: buf.subarray(after, after + Number(length)) });
      at = after + Number(length);
    } else if (wire === 1) {
      out.push({ no, fixed: buf.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 5) {
      out.push({ no, fixed: buf.subarray(at, at + 4) });
      at += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const all = (buf: Buffer, no: number) => fields(buf).filter((f) => f.no === no);
const one = (buf: Buffer, no: number) => fields(buf).find((f) => f.no === no);

function protoValue(buf: Buffer): AttributeValue {
  const f = fields(buf)[0];
  if (!f) return undefined;
  if (f.no === 1) return f.bytes!.toString('utf8');
  if (f.no === 2) return f.varint !== 0n;
  if (f.no === 3) return Number(BigInt.asIntN(64, f.varint!));
  if (f.no === 4) return f.fixed!.readDoubleLE(0);
  if (f.no === 5) return all(f.bytes!, 1).map((v) => protoValue(v.bytes!));
  return undefined;
}

function protoAttributes(buf: Buffer, no: number): Record<string, AttributeValue> {
  return Object.fromEntries(
    all(buf, no).map((kv) => {
      const key = one(kv.bytes!, 1)?.bytes?.toString('utf8') ?? '';
      const value = one(kv.bytes!, 2)?.bytes;
      return [key, value ? protoValue(value) : undefined];
    }),
  );
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of all(body, 1)) {
    const res = one(rs.bytes!, 1)?.bytes;
    const resource = res ? protoAttributes(res, 1) : {};
    for (const ss of all(rs.bytes!, 2)) {
      for (const sp of all(ss.bytes!, 2)) {
        const s = sp.bytes!;
        const hex = (no: number) => one(s, no)?.bytes?.toString('hex') ?? '';
        const status = one(s, 15)?.bytes;
        const ms = (no: number) => Number((one(s, no)?.fixed?.readBigUInt64LE(0) ?? 0n) / 1_000_000n);
        spans.push({
          traceId: hex(1),
          spanId: hex(2),
          parentSpanId: hex(4),
          name: one(s, 5)?.bytes?.toString('utf8') ?? '',
          kind: Number(one(s, 6)?.varint ?? 0n),
          attributes: protoAttributes(s, 9),
          events: all(s, 11).map((e) => ({
            name: one(e.bytes!, 2)?.bytes?.toString('utf8') ?? '',
            attributes: protoAttributes(e.bytes!, 3),
          })),
          statusCode: status ? Number(one(status, 3)?.varint ?? 0n) : 0,
          startMs: ms(7),
          endMs: ms(8),
          resource,
        });
      }
    }
  }
  return spans;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const paths: string[] = [];
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(req.url ?? '');
      headers.push(req.headers);
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      try {
        spans.push(...(type.includes('json') ? fromJson(body) : fromProtobuf(body)));
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      if (type.includes('json')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    spans,
    contentTypes,
    paths,
    headers,
    async waitFor(predicate, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() > until)
          throw new Error(`spans not received in time; got ${spans.map((s) => s.name).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Attribution (issue 18): Claude Code's session and agent headers, `metadata.user_id` and the client's
 * W3C trace id reach the usage records (SQLite and DynamoDB Local), the trace id comes back in
 * `x-abproxy-trace-id`, hostile values are bounded and defused, and `abproxy usage --by session|agent`
 * run as a real CLI process shows them.
 */
import { connect } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import type { UsageRecord } from '../../src/store/types.ts';
import { MAX_ATTRIBUTION_ID, MAX_USER_ID } from '../../src/usage/attribution.ts';
import type { UsageReport } from '../../src/usage/report.ts';
import {
  type Emulator,
  MASTER_KEY,
  postMessages,
  startBedrockEmulator,
  testConfig,
} from '../helpers/gateway.ts';
import { capturedLog } from '../helpers/log.ts';
import { runAbproxy } from '../helpers/process.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';

const SESSION = '7b0c6a9e-3f1d-4c2e-9a8b-1d2e3f4a5b6c';
const AGENT = 'aae8ee539403d09f1';
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const USER = '{"device_id":"d1","account_uuid":"","session_id":"7b0c6a9e"}';
const SINCE = '2000-01-01T00:00:00.000Z';
/** Terminal controls (C0, DEL, C1) and bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

interface Target {
  name: string;
  start(): Promise<{ gateway: RunningServer; cliEnv: Record<string, string>; cliArgs: string[] }>;
  stop(): Promise<void>;
}

let emulator: Emulator;
let local: DynamoLocal | undefined;

beforeAll(async () => {
  emulator = await startBedrockEmulator();
}, 60_000);
afterAll(async () => {
  await local?.stop();
  await emulator?.close();
});

const targets: Target[] = [
  {
    name: 'solo, SQLite',
    async start() {
      const config = testConfig({ usageDrainMs: 50 });
      const gateway = await startServer(config);
      // The CLI finds the same SQLite file and spool through ABPROXY_HOME.
      return { gateway, cliEnv: { ABPROXY_HOME: config.home }, cliArgs: [] };
    },
    async stop() {},
  },
  {
    name: 'team, DynamoDB Local',
    async start() {
      local = await startDynamoLocal();
      process.env.AWS_ENDPOINT_URL_DYNAMODB = local.endpoint;
      await setupTables(local.client(), tableSchemas('attr'));
      const config = testConfig({ mode: 'team', tablePrefix: 'attr', usageDrainMs: 50 });
      const gateway = await startServer(config);
      return {
        gateway,
        cliEnv: { ABPROXY_HOME: config.home, AWS_ENDPOINT_URL_DYNAMODB: local.endpoint },
        cliArgs: ['--mode', 'team', '--table-prefix', 'attr'],
      };
    },
    async stop() {
      delete process.env.AWS_ENDPOINT_URL_DYNAMODB;
    },
  },
];

/** The environment of an `abproxy usage` child process: its store, nothing inherited but PATH. */
const cliEnvOf = (env: Record<string, string>) => ({
  PATH: process.env.PATH,
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
  AWS_SECRET_ACCESS_KEY: 'emulator-secret',
  ...env,
});

/** Waits until the store holds the records with these request ids (written off the hot path). */
async function storedRecords(gateway: RunningServer, requestIds: readonly string[]): Promise<UsageRecord[]> {
  let found: UsageRecord[] = [];
  for (let i = 0; i < 200; i++) {
    const records = await gateway.store.listUsage({ since: SINCE });
    found = records.filter((r) => requestIds.includes(r.requestId));
    if (found.length === requestIds.length) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`only ${found.length} of ${requestIds.length} usage records arrived`);
}

/** One raw HTTP/1.1 request, so header bytes no client library would send can be tried. */
function rawPost(url: string, headerLines: Buffer[], body: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        Buffer.concat([
          Buffer.from(
            `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nx-api-key: ${MASTER_KEY}\r\n` +
              `content-type: application/json\r\nanthropic-version: 2023-06-01\r\nconnection: close\r\n` +
              `content-length: ${Buffer.byteLength(body)}\r\n`,
          ),
          ...headerLines.flatMap((line) => [line, Buffer.from('\r\n')]),
          Buffer.from(`\r\n${body}`),
        ]),
      );
    });
    let out = '';
    socket.on('data', (chunk: Buffer) => {
      out += chunk.toString('latin1');
    });
    socket.on('close', () => resolve(out));
    socket.on('error', reject);
  });
}

describe.each(targets)('attribution ($name)', (target) => {
  let gateway: RunningServer;
  let cliEnv: Record<string, string>;
  let cliArgs: string[];
  let client: Anthropic;

  beforeAll(async () => {
    ({ gateway, cliEnv, cliArgs } = await target.start());
    client = new Anthropic({
      baseURL: gateway.url,
      apiKey: MASTER_KEY,
      maxRetries: 0,
      defaultHeaders: { 'x-claude-code-session-id': SESSION },
    });
  }, 120_000);
  afterAll(async () => {
    await gateway?.close();
    await target.stop();
  });

  it('records the session, agents, user id and trace id, and answers with the trace id', {
    timeout: 60_000,
  }, async () => {
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 20,
      messages: [{ role: 'user' as const, content: 'hi' }],
      metadata: { user_id: USER },
    };
    // The main agent (session only), a subagent, and a nested subagent that carries a traceparent.
    const main = await client.messages.create(params).withResponse();
    const sub = await client.messages
      .create(params, { headers: { 'x-claude-code-agent-id': AGENT } })
      .withResponse();
    const nested = await client.messages
      .stream(params, {
        headers: {
          'x-claude-code-agent-id': 'anested0000000001',
          'x-claude-code-parent-agent-id': AGENT,
          traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
        },
      })
      .withResponse();
    await nested.data.finalMessage();

    expect(main.response.headers.get('x-abproxy-trace-id')).toBeNull();
    expect(nested.response.headers.get('x-abproxy-trace-id')).toBe(TRACE);
    const ids = [main, sub, nested].map((r) => r.response.headers.get('request-id')!);
    const records = await storedRecords(gateway, ids);
    const byRequest = new Map(records.map((r) => [r.requestId, r]));
    expect(byRequest.get(ids[0]!)).toMatchObject({ sessionId: SESSION, userId: USER });
    expect(byRequest.get(ids[0]!)).not.toHaveProperty('agentId');
    expect(byRequest.get(ids[0]!)).not.toHaveProperty('traceId');
    expect(byRequest.get(ids[1]!)).toMatchObject({ sessionId: SESSION, agentId: AGENT, userId: USER });
    expect(byRequest.get(ids[2]!)).toMatchObject({
      sessionId: SESSION,
      agentId: 'anested0000000001',
      parentAgentId: AGENT,
      traceId: TRACE,
      stream: true,
    });

    // The filter reaches the store (SQLite WHERE, DynamoDB filter expression).
    const agentOnly = await gateway.store.listUsage({ since: SINCE, agentId: AGENT });
    expect(agentOnly.map((r) => r.requestId)).toEqual([ids[1]]);

    // `abproxy usage` as a real process: by session, then the session split by agent.
    const bySession = await runAbproxy(['usage', '--by', 'session', '--format', 'json', ...cliArgs], {
      env: cliEnvOf(cliEnv),
    });
    expect(bySession.code, bySession.stderr).toBe(0);
    const sessionReport = JSON.parse(bySession.stdout) as UsageReport;
    expect(sessionReport.by).toBe('session');
    expect(sessionReport.groups.find((g) => g.group === SESSION)?.requests).toBe(3);

    const byAgent = await runAbproxy(['usage', '--session', SESSION, '--by', 'agent', '--json', ...cliArgs], {
      env: cliEnvOf(cliEnv),
    });
    expect(byAgent.code, byAgent.stderr).toBe(0);
    const agentReport = JSON.parse(byAgent.stdout) as UsageReport;
    expect(agentReport.session).toBe(SESSION);
    expect(agentReport.groups.map((g) => [g.group, g.parent, g.requests])).toEqual([
      ['(main)', null, 1],
      [AGENT, '(main)', 1],
      ['anested0000000001', AGENT, 1],
    ]);
    expect(agentReport.total.requests).toBe(3);

    // One row per request, with its trace id: the join key with the client's own telemetry.
    const perRequest = await runAbproxy(
      ['usage', '--session', SESSION, '--by', 'request', '--format', 'json', ...cliArgs],
      { env: cliEnvOf(cliEnv) },
    );
    expect(perRequest.code, perRequest.stderr).toBe(0);
    const requestReport = JSON.parse(perRequest.stdout) as UsageReport;
    expect(requestReport.groups.map((g) => [g.group, g.agent, g.trace_id, g.user_id])).toEqual([
      [ids[0], null, null, USER],
      [ids[1], AGENT, null, USER],
      [ids[2], 'anested0000000001', TRACE, USER],
    ]);
  });

  it('bounds and defuses hostile values; a malformed traceparent is ignored', {
    timeout: 60_000,
  }, async () => {
    const hostileSession = `s-${'x'.repeat(5000)}`;
    const answer = await rawPost(
      gateway.url,
      [
        Buffer.from(`x-claude-code-session-id: ${hostileSession}`),
        // A C1 CSI byte (a terminal control on 8-bit terminals) and UTF-8 bytes of a bidi override.
        Buffer.concat([
          Buffer.from('x-claude-code-agent-id: a'),
          Buffer.from([0x9b]),
          Buffer.from('2J\u202eevil'),
        ]),
        Buffer.from(`traceparent: 00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`),
      ],
      JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'hi' }],
        metadata: { user_id: `=cmd|' /C calc'!A0\u001b[31m\u202e${'u'.repeat(100_000)}` },
      }),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.toLowerCase()).not.toContain('x-abproxy-trace-id');
    const requestId = /request-id: (req_\w+)/i.exec(answer)?.[1];
    expect(requestId).toBeDefined();
    const [record] = await storedRecords(gateway, [requestId!]);
    expect(record!.sessionId!.length).toBe(MAX_ATTRIBUTION_ID);
    expect(record!.userId!.length).toBe(MAX_USER_ID);
    expect(record).not.toHaveProperty('traceId');
    // No control or bidi character survives in any stored attribution.
    for (const value of [record!.sessionId, record!.agentId, record!.userId]) {
      expect(value).not.toMatch(UNSAFE);
    }
    expect(record!.agentId).toContain('\uFFFD');

    // CSV of that session: safe for spreadsheets and terminals.
    const csv = await runAbproxy(
      ['usage', '--by', 'agent', '--format', 'csv', '--session', record!.sessionId!, ...cliArgs],
      {
        env: cliEnvOf(cliEnv),
      },
    );
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe(
      'agent,parent,session,requests,errors,interrupted,estimated,input_tokens,output_tokens,cache_read_input_tokens,cache_creation_input_tokens,cost_usd,web_search_requests,web_fetch_requests',
    );
    expect(lines).toHaveLength(3); // header, one agent, and the final CRLF
    expect(csv.stdout.replaceAll('\r\n', '')).not.toMatch(UNSAFE);
  });
});

describe('trace id in the log line', () => {
  it('writes the client trace id in the request line, with tracing off', { timeout: 30_000 }, async () => {
    const { logger, lines } = capturedLog('debug');
    const gateway = await startServer(testConfig(), { logger });
    try {
      const res = await postMessages(
        gateway.url,
        JSON.stringify({
          model: 'claude-sonnet-4-5',
          max_tokens: 5,
          messages: [{ role: 'user', content: 'hi' }],
        }),
        { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      );
      expect(res.status).toBe(200);
      await res.text();
      expect(res.headers.get('x-abproxy-trace-id')).toBe(TRACE);
      const requestId = res.headers.get('request-id');
      let line: Record<string, unknown> | undefined;
      for (let i = 0; i < 100 && !line; i++) {
        line = lines.find((l) => l.msg === 'request' && l.requestId === requestId);
        if (!line) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(line).toMatchObject({ traceId: TRACE, status: 200 });
    } finally {
      await gateway.close();
    }
  });
});

describe('abproxy usage usage errors', () => {
  it('answers a bad --by or --format with exit 2, as JSON under --format json', {
    timeout: 30_000,
  }, async () => {
    const env = cliEnvOf({ ABPROXY_HOME: testConfig().home });
    const bad = await runAbproxy(['usage', '--by', 'user', '--format', 'json'], { env });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      error: { exitCode: 2, message: expect.stringContaining('--by') },
    });
    const format = await runAbproxy(['usage', '--format', 'xml'], { env });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('--format');
    const both = await runAbproxy(['usage', '--json', '--format', 'csv'], { env });
    expect(both.code).toBe(2);
  });
});

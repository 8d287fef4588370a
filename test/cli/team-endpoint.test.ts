/**
 * Team-mode admin commands pointed at something that is not DynamoDB (a mistyped
 * AWS_ENDPOINT_URL_DYNAMODB, a proxy's error page): one line that says so, not a stack trace.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliEnv, runCli, tempHome } from './cli-helpers.ts';

let notDynamo: Server;
let endpoint: string;

beforeAll(async () => {
  notDynamo = createServer((req, res) => {
    req.resume();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => notDynamo.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(notDynamo.address() as { port: number }).port}`;
});
afterAll(() => {
  notDynamo?.close();
});

it.each([[['keys', 'list', '--mode', 'team']], [['tables', 'setup', '--json']]])(
  'abproxy %s against an endpoint answering 404 names the endpoint setting, without a stack',
  async (args) => {
    const home = tempHome();
    const out = await runCli(
      args,
      cliEnv(home, 'http://127.0.0.1:9', { AWS_ENDPOINT_URL_DYNAMODB: endpoint }),
    );
    expect(out.code).toBe(1);
    // --json says it on stdout, as JSON.
    const said = `${out.stdout}${out.stderr}`;
    expect(said).toMatch(/not DynamoDB's \(HTTP 404\).*AWS_ENDPOINT_URL_DYNAMODB/);
    expect(said).not.toMatch(/\n\s+at /);
  },
);

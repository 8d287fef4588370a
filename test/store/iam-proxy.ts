/**
 * DynamoDB Local does not do IAM. This HTTP proxy in front of it answers the operations in `deny` as
 * DynamoDB answers a role without that permission (400, AccessDeniedException naming the account and
 * table) and forwards every other call.
 */
import { createServer, request } from 'node:http';

export const DENIED_ACCOUNT = '123456789012';

export interface IamProxy {
  url: string;
  /** Operations refused, as in X-Amz-Target (GetItem, UpdateItem…), everywhere or on one table (`GetItem t-keys`). */
  deny: Set<string>;
  close(): Promise<void>;
}

export async function iamProxy(target: string): Promise<IamProxy> {
  const deny = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
      const { TableName: table = 'unknown' } = JSON.parse(body.toString() || '{}') as { TableName?: string };
      if (deny.has(operation) || deny.has(`${operation} ${table}`)) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'DENIED' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException',
            Message:
              `User: arn:aws:sts::${DENIED_ACCOUNT}:assumed-role/abproxy-gateway/task is not authorized to perform: ` +
              `dynamodb:${operation} on resource: arn:aws:dynamodb:us-east-1:${DENIED_ACCOUNT}:table/${table} ` +
              `because no identity-based policy allows the dynamodb:${operation} action`,
          }),
        );
        return;
      }
      const upstream = request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    deny,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

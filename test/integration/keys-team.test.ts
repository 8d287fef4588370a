/** Team mode: the gateway on DynamoDB Local tables made by `tables setup`; keys verified through a cache. */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables, TableMismatchError } from '../../src/store/dynamodb-setup.ts';
import { tableSchemas } from '../../src/store/schema.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';
import { type DynamoLocal, startDynamoLocal } from '../store/dynamodb-local.ts';
import { keysScenarios } from './keys-scenarios.ts';

const CACHE_MS = 1_000;
let emulator: Emulator;
let local: DynamoLocal;
let gateway: RunningServer;
let admin: DynamoStore;

beforeAll(async () => {
  [emulator, local] = await Promise.all([startBedrockEmulator(), startDynamoLocal()]);
  // The gateway builds its own DynamoDB client from the environment, as in production.
  process.env.AWS_ENDPOINT_URL_DYNAMODB = local.endpoint;
  const client = local.client();
  await setupTables(client, tableSchemas('team'));
  admin = new DynamoStore({ tablePrefix: 'team', region: 'us-east-1', client });
  gateway = await startServer(testConfig({ mode: 'team', tablePrefix: 'team', keyCacheMs: CACHE_MS }));
});
afterAll(async () => {
  await gateway?.close();
  await admin?.close();
  await local?.stop();
  await emulator?.close();
});

keysScenarios('team, DynamoDB Local', () => ({
  url: gateway.url,
  emulator,
  admin,
  revokeWithinMs: CACHE_MS,
}));

describe('team tables that are not there, or not abproxy', () => {
  it('serve refuses to start on missing tables, naming them and the fix (it looked ready, then 500s)', async () => {
    await expect(startServer(testConfig({ mode: 'team', tablePrefix: 'nosuch' }))).rejects.toThrow(
      /nosuch-keys does not exist.*abproxy tables setup/,
    );
  });

  it('tables setup refuses a table of the same name keyed otherwise', async () => {
    const client = local.client();
    await client.send(
      new CreateTableCommand({
        TableName: 'other-keys',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const setup = setupTables(client, tableSchemas('other'));
    await expect(setup).rejects.toBeInstanceOf(TableMismatchError);
    await expect(setup).rejects.toThrow(/other-keys is keyed by id, not /);
  });
});

/** Team mode: the gateway on DynamoDB Local tables made by `tables setup`; keys verified through a cache. */
import { afterAll, beforeAll } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { DynamoStore } from '../../src/store/dynamodb.ts';
import { setupTables } from '../../src/store/dynamodb-setup.ts';
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

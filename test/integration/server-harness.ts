/**
 * Starts the Bedrock emulator and a gateway wired to it in-process. The AWS SDK reads the endpoint and
 * credentials from the environment, exactly as in production, so this also proves that wiring.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { type Config, defaultSettings, resolveConfig, type Settings } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server/server.ts';
import { startEmulator } from '../emulator/server.ts';

export type Emulator = Awaited<ReturnType<typeof startEmulator>>;

export const MASTER_KEY = 'test-master-key';

export async function startBedrockEmulator(): Promise<Emulator> {
  const emulator = await startEmulator({ port: 0 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
    AWS_ENDPOINT_URL_BEDROCK: emulator.url,
    AWS_ACCESS_KEY_ID: 'AKIDEMULATOR',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_BEARER_TOKEN_BEDROCK;
  return emulator;
}

export function testConfig(overrides: Partial<Settings> = {}, env: Record<string, string> = {}): Config {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-it-'));
  const config = resolveConfig({
    env: { MASTER_API_KEY: MASTER_KEY, LOG_LEVEL: 'silent', ...env },
    defaults: { ...defaultSettings(home), port: 0, host: '127.0.0.1' },
  });
  return { ...config, ...overrides };
}

export async function startGateway(overrides: Partial<Settings> = {}, env: Record<string, string> = {}) {
  const server: RunningServer = await startServer(testConfig(overrides, env));
  const client = new Anthropic({ baseURL: server.url, apiKey: MASTER_KEY, maxRetries: 0 });
  return { server, client, url: server.url };
}

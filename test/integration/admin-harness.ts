/**
 * A gateway on the Bedrock emulator with the admin page built, and an HTTP client that keeps a session.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { buildAdmin } from '../../scripts/build-admin.ts';
import type { Settings } from '../../src/config/config.ts';
import { type RunningServer, startServer } from '../../src/server/http/server.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { type Emulator, startBedrockEmulator, testConfig } from '../helpers/gateway.ts';

/** Builds the page once per test file, into its own directory (test files run in parallel). */
export async function buildAdminAssets(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'abproxy-admin-'));
  await buildAdmin(dir);
  return dir;
}

export async function startAdminGateway(
  assetsDir: string,
  overrides: Partial<Settings> = {},
): Promise<RunningServer> {
  return startServer(testConfig(overrides), { adminAssetsDir: assetsDir });
}

/** Calls the admin API as the page does: the session cookie and the CSRF token it was given. */
export class AdminClient {
  readonly url: string;
  cookie = '';
  csrf = '';

  constructor(url: string) {
    this.url = url;
  }

  async fetch(
    path: string,
    init: Omit<RequestInit, 'headers'> & { headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (this.cookie) headers.cookie = this.cookie;
    const res = await fetch(`${this.url}${path}`, { redirect: 'manual', ...init, headers });
    const set = res.headers.getSetCookie().find((c) => c.startsWith('abproxy_admin='));
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }

  /** Signs in with the master key (the form) or a one-time token (an `abproxy admin` link). */
  async login(masterKey: string): Promise<Response> {
    return this.#signIn({ master_key: masterKey });
  }

  async redeem(token: string): Promise<Response> {
    return this.#signIn({ token });
  }

  async #signIn(body: unknown): Promise<Response> {
    const res = await this.fetch('/admin/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.ok) this.csrf = ((await res.clone().json()) as { csrf: string }).csrf;
    return res;
  }

  /** A mutation with the CSRF header (and any extra headers, e.g. a forged Origin). */
  send(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.fetch(path, {
      method,
      headers: { 'content-type': 'application/json', 'x-abproxy-csrf': this.csrf, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
}

/**
 * Registers a suite's hooks: the emulator, a gateway with the admin page on it and a headless Chromium
 * start before all tests (the build takes a while) and close after them.
 */
export function adminInChromium(): {
  readonly emulator: Emulator;
  readonly gateway: RunningServer;
  readonly browser: Browser;
} {
  let started: { emulator: Emulator; gateway: RunningServer; browser: Browser } | undefined;
  beforeAll(async () => {
    const emulator = await startBedrockEmulator();
    const gateway = await startAdminGateway(await buildAdminAssets());
    started = { emulator, gateway, browser: await launchChromium() };
  }, 120_000);
  afterAll(async () => {
    await started?.browser.close();
    await started?.gateway.close();
    await started?.emulator.close();
  });
  const ready = () => {
    if (!started) throw new Error('the admin page is not running (used outside a test?)');
    return started;
  };
  return {
    get emulator() {
      return ready().emulator;
    },
    get gateway() {
      return ready().gateway;
    },
    get browser() {
      return ready().browser;
    },
  };
}

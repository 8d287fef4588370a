/**
 * The admin page in a real headless Chromium (Debian's, driven by playwright-core): sign in with the
 * master key, create a key and call the gateway with it through the Anthropic SDK, watch the request
 * arrive live and the charts move, revoke the key (the SDK then gets 401), a forged form post from a
 * page on another origin refused, and no console errors. Screenshots go to .test-results/admin/.
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SERIES } from '../../src/admin/usage-view.ts';
import { admin } from '../../src/cli/admin.ts';
import type { RunningServer } from '../../src/server/http/server.ts';
import { hasChromium, launchChromium } from '../helpers/chromium.ts';
import { type Emulator, MASTER_KEY, startBedrockEmulator } from '../helpers/gateway.ts';
import { buildAdminAssets, startAdminGateway } from './admin-harness.ts';

const SHOTS = join(import.meta.dirname, '../../.test-results/admin');

describe.skipIf(!hasChromium)('admin page in Chromium', () => {
  let emulator: Emulator;
  let gateway: RunningServer;
  let browser: Browser;
  let evil: http.Server;
  let evilUrl: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    emulator = await startBedrockEmulator();
    gateway = await startAdminGateway(await buildAdminAssets());
    browser = await launchChromium();
    // A page on another origin (same host, other port) that posts a form to the admin API.
    evil = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<form id="f" method="POST" action="${gateway.url}/admin/api/keys" enctype="text/plain">` +
          `<input name='{"name":"forged","x":"' value='"}'></form>` +
          '<script>document.getElementById("f").submit()</script>',
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    evil?.close();
    await gateway?.close();
    await emulator?.close();
  });

  function watch(page: Page): void {
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
  }

  const total = (page: Page, title: string) =>
    page.locator(`figure[aria-label="${title}"]`).getAttribute('data-total').then(Number);

  it('runs the key life cycle through the page', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watch(page);
    await page.goto(`${gateway.url}/admin`);
    await page.getByLabel('Master key').fill('not the key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('wrong master key');
    // Chromium logs that deliberate 401 as a console error; every other one counts.
    expect(consoleErrors).toEqual([expect.stringContaining('status of 401')]);
    consoleErrors.length = 0;
    await page.getByLabel('Master key').fill(MASTER_KEY);
    await page.getByLabel('Master key').press('Enter');
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    await page.locator('.dot.on').waitFor();
    await page.screenshot({ path: join(SHOTS, '1-signed-in.png'), fullPage: true });

    // Create a key: the secret is shown once.
    await page.getByText('Create a key').click();
    await page.getByLabel('Name').fill('browser-ci');
    await page.getByLabel('User').fill('carol');
    await page.getByLabel('Monthly budget (USD)').fill('3');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByLabel('Secret').inputValue();
    expect(secret).toMatch(/^abp_/);
    const row = page.locator('tr[data-key-id]', { hasText: 'browser-ci' });
    await row.waitFor();
    await page.screenshot({ path: join(SHOTS, '2-key-created.png'), fullPage: true });
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.content()).not.toContain(secret);

    // Use it with the SDK: the request shows up live, the charts and the spend follow.
    const costBefore = await total(page, 'Cost per day by key');
    const tokensBefore = await total(page, 'Tokens per day by model');
    const sdk = new Anthropic({ baseURL: gateway.url, apiKey: secret, maxRetries: 0 });
    const reply = await sdk.messages.create({
      model: 'qwen.qwen3-32b-v1:0',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello from the browser test' }],
    });
    expect(reply.type).toBe('message');
    const live = page.locator('#live-requests tbody tr', { hasText: 'qwen.qwen3-32b-v1:0' });
    await live.first().waitFor();
    expect(await live.first().textContent()).toContain('browser-ci');
    await expect.poll(() => total(page, 'Tokens per day by model')).toBeGreaterThan(tokensBefore);
    await expect.poll(() => total(page, 'Cost per day by key')).toBeGreaterThan(costBefore);
    await page.locator('.uplot').first().waitFor();
    await page.screenshot({ path: join(SHOTS, '3-live-and-charts.png'), fullPage: true });

    // Edit its limits.
    await page.getByRole('button', { name: 'Edit browser-ci' }).click();
    await page.locator('tr.edit-row').getByLabel('Requests per minute').fill('42');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => row.textContent()).toContain('42 req/min');

    // Revoke: two steps, then the SDK is refused.
    await page.getByRole('button', { name: 'Revoke browser-ci' }).click();
    await page.getByRole('button', { name: 'Confirm revoke' }).click();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('revoked');
    await expect(
      sdk.messages.create({
        model: 'qwen.qwen3-32b-v1:0',
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toMatchObject({ status: 401 });
    await page.screenshot({ path: join(SHOTS, '4-revoked.png'), fullPage: true });

    // A page on another origin, in the same browser (the session cookie is there), posts a form.
    const keysBefore = await gateway.store.listKeys();
    const attacker = await context.newPage();
    await attacker.goto(evilUrl);
    await attacker.waitForURL(`${gateway.url}/admin/api/keys`);
    expect(await attacker.content()).toMatch(/permission_error|cross-origin/);
    expect(await gateway.store.listKeys()).toHaveLength(keysBefore.length);
    await attacker.close();

    // The phone layout: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SHOTS, '5-phone.png'), fullPage: true });
    // A string, so the test needs no DOM types.
    const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
    expect(overflow).toBeLessThanOrEqual(0);

    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('the by-model tables stay short when a client sprays made-up model names: (others) sums the rest', async () => {
    const sdk = new Anthropic({ baseURL: gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    const ask = (model: string) => ({
      model,
      max_tokens: 8,
      messages: [{ role: 'user' as const, content: 'hi' }],
    });
    for (let i = 0; i < 30; i++) await sdk.messages.create(ask(`acme.sprayed-${i}`)).catch(() => undefined);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    watch(page);
    await page.goto(`${gateway.url}/admin`);
    await page.getByLabel('Master key').fill(MASTER_KEY);
    await page.getByLabel('Master key').press('Enter');
    for (const caption of ['Usage by model', 'Last 24 hours by model']) {
      const table = page.locator('table', { has: page.locator('caption', { hasText: caption }) });
      await expect.poll(() => table.locator('tbody tr', { hasText: '(others)' }).count()).toBe(1);
      // At most MAX_SERIES rows (the largest models and (others)), and the total.
      expect(await table.locator('tbody tr').count()).toBeLessThanOrEqual(MAX_SERIES + 1);
    }
    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 120_000);

  it('signs in through the one-time link of `abproxy admin`, which then drops out of the address bar', async () => {
    const lines: string[] = [];
    await admin(
      { url: gateway.url, print: true },
      { stdout: (l) => lines.push(l), env: { MASTER_API_KEY: MASTER_KEY } },
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page);
    await page.goto(lines.at(-1)!);
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    expect(page.url()).toBe(`${gateway.url}/admin`);
    expect(consoleErrors).toEqual([]);
    await context.close();
  }, 60_000);
});

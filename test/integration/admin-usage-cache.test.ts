/**
 * The admin page's usage tables show cache tokens: Claude Code's traffic is mostly prompt-cache reads and
 * writes, and a table of input, output and cost alone showed "1 input token, $0.12" for a turn that wrote
 * 20,000 tokens to the cache (the live panel's "tokens in" counted them, the tables did not).
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { hasChromium } from '../helpers/chromium.ts';
import { ask, MASTER_KEY } from '../helpers/gateway.ts';
import { adminInChromium } from './admin-harness.ts';

describe.skipIf(!hasChromium)('cache tokens on the admin page', () => {
  const admin = adminInChromium();

  it('the usage tables have cache read and cache write columns with the store’s numbers', async () => {
    admin.emulator.enqueue({
      text: 'hello',
      usage: { inputTokens: 3, outputTokens: 20, cacheReadInputTokens: 1200, cacheWriteInputTokens: 20341 },
    });
    const sdk = new Anthropic({ baseURL: admin.gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    await sdk.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 50, messages: ask('hi') });

    const page = await (await admin.browser.newContext()).newPage();
    await page.goto(`${admin.gateway.url}/admin`);
    await page.getByLabel('Master key').fill(MASTER_KEY);
    await page.getByLabel('Master key').press('Enter');
    const table = page.locator('table', { has: page.locator('caption', { hasText: 'Usage by model' }) });
    const row = table.locator('tr', { hasText: 'claude-sonnet-4-5-20250929' });
    await row.waitFor();
    const cells = async (locator: typeof row) =>
      (await locator.locator('th, td').allTextContents()).map((text) => text.trim());
    const header = await cells(table.locator('thead tr'));
    const values = Object.fromEntries((await cells(row)).map((value, i) => [header[i], value]));
    expect(values).toMatchObject({
      Input: '3',
      Output: '20',
      'Cache read': '1,200',
      'Cache write': '20,341',
    });
  });
});

/**
 * The admin page's usage tables show web searches and fetches when the period had any, as `abproxy
 * usage` does: the usage API, the CLI table, JSON and CSV had them, the page did not, so a key running
 * up a search provider's bill showed nothing of it where the operator looks.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/usage/ids.ts';
import { hasChromium } from '../helpers/chromium.ts';
import { ask, MASTER_KEY } from '../helpers/gateway.ts';
import { adminInChromium } from './admin-harness.ts';

const MODEL = 'claude-sonnet-4-5-20250929';

/** One table's header and the cells of the row whose first cell is `group`, by header. */
async function rowOf(page: Page, caption: string, group: string): Promise<Record<string, string>> {
  const table = page.locator('table', { has: page.locator('caption', { hasText: caption }) });
  const row = table.locator('tbody tr', { has: page.locator('th', { hasText: group }) });
  await row.waitFor();
  const cells = async (locator: typeof row) =>
    (await locator.locator('th, td').allTextContents()).map((text) => text.trim());
  const header = await cells(table.locator('thead tr'));
  return Object.fromEntries((await cells(row)).map((value, i) => [header[i], value]));
}

describe.skipIf(!hasChromium)('web tool counts on the admin page', () => {
  const admin = adminInChromium();

  it('no web columns while the period had none; searches and fetches per row once it has', async () => {
    admin.emulator.enqueue({ text: 'hello' });
    const sdk = new Anthropic({ baseURL: admin.gateway.url, apiKey: MASTER_KEY, maxRetries: 0 });
    await sdk.messages.create({ model: MODEL, max_tokens: 50, messages: ask('hi') });

    const page = await (await admin.browser.newContext()).newPage();
    await page.goto(`${admin.gateway.url}/admin`);
    await page.getByLabel('Master key').fill(MASTER_KEY);
    await page.getByLabel('Master key').press('Enter');
    const quiet = await rowOf(page, 'Usage by model', MODEL);
    expect(quiet.Requests).toBe('1');
    expect(Object.keys(quiet)).not.toContain('Web searches');

    // A call whose server-tools loop ran searches and fetches, as metering records it.
    await admin.gateway.store.recordUsage([
      {
        id: uuidv7(),
        keyId: 'master',
        at: new Date().toISOString(),
        model: 'claude-haiku-4-5',
        serviceTier: 'default',
        inputTokens: 900,
        outputTokens: 40,
        cacheReadInputTokens: 0,
        cacheWriteInputTokens: 0,
        latencyMs: 2100,
        status: 200,
        requestId: 'req_web',
        webSearchRequests: 3,
        webFetchRequests: 2,
      },
    ]);
    await page.reload();
    const searched = await rowOf(page, 'Usage by model', 'claude-haiku-4-5');
    expect(searched).toMatchObject({ Requests: '1', 'Web searches': '3', 'Web fetches': '2' });
    expect(await rowOf(page, 'Usage by model', MODEL)).toMatchObject({
      'Web searches': '0',
      'Web fetches': '0',
    });
    expect(await rowOf(page, 'Usage by model', 'Total')).toMatchObject({
      Requests: '2',
      'Web searches': '3',
      'Web fetches': '2',
    });
  });
});

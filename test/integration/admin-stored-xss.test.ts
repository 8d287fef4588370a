/**
 * Stored XSS through everything the admin page shows that someone other than the admin chose: key names,
 * users and model globs (an admin may paste them from a ticket), model ids, Claude Code session and agent
 * ids and `metadata.user_id` sent by any key holder. Each carries markup and a script; the page, in a real
 * headless Chromium, must show it as text on every tab, run none of it and build no element from it.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { hasChromium } from '../helpers/chromium.ts';
import { MASTER_KEY } from '../helpers/gateway.ts';
import { AdminClient, adminInChromium } from './admin-harness.ts';

/** Each sets window.__xss when run, and makes an <img class=pwn> or <svg class=pwn> when parsed as HTML. */
const payload = (where: string) =>
  `${where}<img class=pwn src=x onerror="window.__xss='${where}'"><svg class=pwn onload="window.__xss='${where}'">`;

describe.skipIf(!hasChromium)('hostile text on the admin page', () => {
  const admin = adminInChromium();

  it('is shown as text on every tab, and runs nothing', async () => {
    const adminApi = new AdminClient(admin.gateway.url);
    expect((await adminApi.login(MASTER_KEY)).status).toBe(200);
    const created = await adminApi.fetch('/admin/api/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-abproxy-csrf': adminApi.csrf },
      body: JSON.stringify({
        name: payload('name'),
        user: payload('user'),
        models: ['qwen.*', payload('glob')],
      }),
    });
    expect(created.status).toBeLessThan(300);
    const secret = ((await created.json()) as { secret: string }).secret;

    // A key holder's requests, with hostile attribution and model names.
    const sdk = new Anthropic({
      baseURL: admin.gateway.url,
      apiKey: secret,
      maxRetries: 0,
      defaultHeaders: {
        'x-claude-code-session-id': payload('session'),
        'x-claude-code-agent-id': payload('agent'),
      },
    });
    await sdk.messages.create({
      model: 'qwen.qwen3-32b-v1:0',
      max_tokens: 16,
      metadata: { user_id: payload('userid') },
      messages: [{ role: 'user', content: 'hi' }],
    });
    await sdk.messages
      .create({
        model: `qwen.${payload('model')}`,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      })
      .catch(() => undefined);

    const context = await admin.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${admin.gateway.url}/admin`);
    await page.getByLabel('Master key').fill(MASTER_KEY);
    await page.getByLabel('Master key').press('Enter');
    await page.getByRole('heading', { name: 'Keys' }).waitFor();
    const seen: string[] = [];
    for (const tab of ['live', 'keys', 'usage', 'models', 'settings']) {
      await page.goto(`${admin.gateway.url}/admin#${tab}`);
      await page.waitForTimeout(1000);
      seen.push(await page.evaluate('document.body.innerText'));
      expect(await page.evaluate('window.__xss ?? null')).toBeNull();
      expect(await page.locator('.pwn').count()).toBe(0);
    }
    // The text is there, as text: the key's fields, the session and the model id of its requests.
    expect(seen.join('\n')).toContain(payload('name'));
    const text = seen.join('\n');
    for (const where of ['user', 'glob', 'session', 'model']) expect(text).toContain(payload(where));
    expect(dialogs).toEqual([]);
    await context.close();
  }, 120_000);
});

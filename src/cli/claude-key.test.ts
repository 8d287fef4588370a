import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultSettings, resolveConfig } from '../config/config.ts';
import { openStore } from '../store/open.ts';
import { CLAUDE_KEY_NAME, claudeKey } from './claude-key.ts';

function configWithOneKey() {
  const home = mkdtempSync(join(tmpdir(), 'abproxy-claude-key-'));
  return resolveConfig({ env: { LOG_LEVEL: 'silent' }, defaults: defaultSettings(home) });
}

describe('claudeKey', () => {
  it('two launches at once make one abproxy-claude key and both present it (no second key whose secret no one holds)', async () => {
    const config = configWithOneKey();
    const store = await openStore(config);
    await store.createKey({
      id: 'k_me',
      hash: 'h'.repeat(64),
      prefix: 'abp_me',
      name: 'me',
      limits: {},
      createdAt: new Date().toISOString(),
    });
    const [a, b] = await Promise.all([claudeKey(config), claudeKey(config)]);
    expect(a?.secret).toBeDefined();
    expect(b?.secret).toBe(a?.secret);
    const mine = (await store.listKeys()).filter((k) => k.name === CLAUDE_KEY_NAME);
    await store.close();
    expect(mine).toHaveLength(1);
  });
});

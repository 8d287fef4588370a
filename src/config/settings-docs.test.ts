import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from './settings.ts';
import { settingsTableMarkdown, withSettingsTable } from './settings-docs.ts';

describe('the README settings table', () => {
  it('is the one the settings table renders (run `npm run docs` after changing a setting)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('names every environment variable of every setting', () => {
    const table = settingsTableMarkdown();
    for (const names of Object.values(ENV_NAMES))
      for (const name of names) expect(table).toContain(`\`${name}\``);
  });
});

describe('abproxy config set --help', () => {
  it('lists every setting with its environment names', async () => {
    const { settingsHelp } = await import('../cli/config.ts');
    const help = settingsHelp();
    for (const [key, names] of Object.entries(ENV_NAMES))
      expect(help).toMatch(new RegExp(`\\b${key}\\b.*${names[0]}`));
  });
});

/** Debian's Chromium (`apt-get install chromium`), headless, as every browser test here drives it. */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** Browser tests are skipped on a machine without it. */
export const hasChromium = existsSync(CHROMIUM);

/** playwright-core loads with the first browser, not with every test file that imports this. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
}

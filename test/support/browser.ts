import { chromium, type Browser } from 'playwright-core';
import { chromiumPath } from '@musubi/platform/fleet';

/**
 * Debian's Chromium, headless, driven by playwright-core (never a downloaded
 * browser). The flags keep it from reaching out to the closed network.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

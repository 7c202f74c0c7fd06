import { chromium } from "playwright-core";

export const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/** Debian's chromium, headless; never a downloaded browser. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A page that records its console errors and uncaught exceptions, for the report.
 * @param {import("playwright-core").Browser} browser
 * @param {object} device DESKTOP or PHONE
 * @param {{baseUrl: string, token?: string}} options `token` pre-seeds the stored guest token
 */
export async function openPage(browser, device, { baseUrl, token }) {
  const context = await browser.newContext({
    ...device,
    baseURL: baseUrl,
    colorScheme: "dark",
    reducedMotion: "no-preference",
  });
  if (token) {
    await context.addInitScript((value) => {
      if (!localStorage.getItem("edge-art.token")) localStorage.setItem("edge-art.token", value);
    }, token);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  return { context, page, problems };
}

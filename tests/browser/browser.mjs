// Debian's headless Chromium driven by playwright-core (never a downloaded browser): what the
// browser tests and the screenshot script share. DOSIM_CHROMIUM overrides /usr/bin/chromium.
import { chromium } from "playwright-core";

// Without the background-networking flags Chromium keeps dialling Google's hosts, which a
// closed network refuses.
const FLAGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.DOSIM_CHROMIUM || "/usr/bin/chromium",
    args: FLAGS,
    headless: true,
  });
}

// A page that records what a person would see go wrong: console errors, uncaught exceptions
// and requests that left the machine (a report must need no network).
export async function openPage(browser, url, viewport = { width: 1400, height: 1000 }) {
  const page = await browser.newPage({ viewport });
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("request", (request) => {
    const target = request.url();
    if (!/^(file:|data:|about:|http:\/\/127\.0\.0\.1[:/])/.test(target))
      problems.push(`request off the machine: ${target}`);
  });
  await page.goto(url, { waitUntil: "load" });
  return { page, problems };
}

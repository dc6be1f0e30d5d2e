// node tests/browser/screenshot.mjs URL OUT.png [WIDTH HEIGHT] [--full] [--wait MS]
// [--click SELECTOR]: a picture of a dosim page as Chromium draws it (the screenshots in
// docs/ are made with it; docs/report.md says how).
import { launch, openPage } from "./browser.mjs";

const args = process.argv.slice(2);
const flag = (name) => { const i = args.indexOf(name); return i < 0 ? null : args.splice(i, 2)[1]; };
const full = args.includes("--full");
const wait = Number(flag("--wait") || 300);
const click = flag("--click");
const [url, out, width = "1400", height = "1000"] = args.filter((a) => a !== "--full");
const browser = await launch();
try {
  const { page, problems } = await openPage(browser, url, { width: Number(width), height: Number(height) });
  if (click) await page.click(click);
  await page.waitForTimeout(wait);
  await page.screenshot({ path: out, fullPage: full });
  for (const p of problems) console.error(p);
  if (problems.length) process.exitCode = 1;
} finally {
  await browser.close();
}

// node tests/browser/load_time.mjs FILE.html [RUNS]: how long Chromium takes to open a dosim
// page and draw it (navigation start to the end of the load event, the page's scripts
// included: they draw synchronously), the median of RUNS fresh loads; for bench/RESULTS.md.
import path from "node:path";
import { launch, openPage } from "./browser.mjs";

const [given, runs = "5"] = process.argv.slice(2);
const file = path.resolve(given);  // a file:// URL needs the absolute path
const browser = await launch();
const times = [];
try {
  for (let i = 0; i < Number(runs); ++i) {
    const { page, problems } = await openPage(browser, `file://${file}`);
    times.push(await page.evaluate(() => {
      const [nav] = performance.getEntriesByType("navigation");
      return nav.loadEventEnd - nav.startTime;
    }));
    const nodes = await page.$$eval(".service-map .node", (n) => n.length);
    if (problems.length) console.error(problems.join("\n"));
    if (i === 0) console.log(`map nodes drawn: ${nodes}`);
    await page.close();
  }
} finally {
  await browser.close();
}
times.sort((a, b) => a - b);
console.log(`load and draw: median ${times[Math.floor(times.length / 2)].toFixed(0)} ms over ${times.length} loads ` +
            `(min ${times[0].toFixed(0)}, max ${times[times.length - 1].toFixed(0)})`);

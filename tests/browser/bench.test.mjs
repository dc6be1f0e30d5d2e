// The bench report (`dosim bench --report`) as a person sees it in Chromium: a table per
// scenario with a row per detector and the null baseline, one precision/recall point per
// run and detector at the run's own precision and recall, a TTD distribution and a false
// alarm bar per detector, no console errors and no request off the machine. The expected
// values come from the bench's JSON (--out), read here, not from the page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { readFileSync } from "node:fs";
import path from "node:path";
import { launch, openPage } from "./browser.mjs";
import { TMP, dosim } from "./support.mjs";

const SCENARIOS = ["scenarios/payments-mad.yaml", "scenarios/crash-loop.yaml"];
const DETECTORS = ["mad", "threshold"];
let browser, page, problems, results;

before(async () => {
  const out = path.join(TMP, "bench.json");
  const report = path.join(TMP, "bench.html");
  dosim("bench", "--detectors", DETECTORS.join(","), "--scenarios", SCENARIOS.join(","),
        "--seeds", "2", "--threads", "2", "--quiet", "--out", out, "--report", report);
  results = JSON.parse(readFileSync(out, "utf8"));
  browser = await launch();
  ({ page, problems } = await openPage(browser, `file://${report}`));
});

after(async () => {
  await browser?.close();
});

test("a table per scenario, a row per detector and the null baseline", async () => {
  for (const scenario of SCENARIOS) {
    const rows = await page.$$eval(`table.bench-table[data-scenario$="${path.basename(scenario)}"] tr[data-detector]`,
                                   (r) => r.map((x) => x.dataset.detector));
    assert.deepEqual(rows, [...DETECTORS, "null"], scenario);
  }
});

test("one precision/recall point per run and detector, where its scores put it", async () => {
  const points = await page.$$eval("circle.pr-point", (c) => c.map((p) => ({
    detector: p.dataset.detector, scenario: p.dataset.scenario, seed: p.dataset.seed,
  })));
  assert.equal(points.length, results.runs.length * DETECTORS.length);
  for (const run of results.runs)
    for (const d of DETECTORS)
      assert.equal(points.filter((p) => p.detector === d && p.scenario === run.scenario &&
                                        p.seed === String(run.seed)).length, 1, `${d} ${run.scenario} ${run.seed}`);
  // Higher recall is further right, higher precision further up, as on any PR chart.
  const placed = await page.$$eval("circle.pr-point", (c) => c.map((p) => ({
    detector: p.dataset.detector, scenario: p.dataset.scenario, seed: p.dataset.seed,
    x: p.getBoundingClientRect().x, y: p.getBoundingClientRect().y,
  })));
  const scores = (p) => results.runs.find((r) => r.scenario === p.scenario && String(r.seed) === p.seed).scores[p.detector];
  for (const a of placed)
    for (const b of placed) {
      if (scores(a).recall > scores(b).recall + 0.05) assert.ok(a.x > b.x, "recall grows rightwards");
      if (scores(a).precision > scores(b).precision + 0.05) assert.ok(a.y < b.y, "precision grows upwards");
    }
});

test("a TTD distribution and a false alarm bar per detector, and no console errors", async () => {
  const ttd = await page.$$eval("g.ttd", (g) => g.map((x) => x.dataset.detector));
  for (const d of DETECTORS) assert.ok(ttd.includes(d), d);
  const bars = await page.$$eval("rect.fa-bar", (r) => r.map((x) => x.dataset.detector));
  for (const d of DETECTORS) assert.ok(bars.includes(d), d);
  assert.deepEqual(await page.$$eval(".render-error", (e) => e.map((x) => x.textContent)), []);
  assert.deepEqual(problems, []);
});

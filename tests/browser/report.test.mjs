// The run report (`dosim report`) as a person sees it in Chromium: a node per service on the
// map, the root cause red when its incident is chosen, every incident on the timeline at its
// time, zooming, a chart panel per incident with its impact window, the score table's rows,
// no console errors and no request off the machine. Facts come from h5py, not from dosim.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { launch, openPage } from "./browser.mjs";
import { TMP, dosim, traceFacts } from "./support.mjs";

let browser, page, problems, facts;
const trace = path.join(TMP, "ecommerce.h5");
const report = path.join(TMP, "ecommerce.html");

before(async () => {
  dosim("run", "scenarios/ecommerce.yaml", "-q", "-o", trace);
  dosim("report", trace, "-o", report);
  facts = traceFacts(trace);
  browser = await launch();
  ({ page, problems } = await openPage(browser, `file://${report}`));
});

after(async () => {
  await browser?.close();
});

test("the report is one file that needs no network", () => {
  assert.ok(statSync(report).size > 10000);
  assert.deepEqual(problems, []);
});

test("the map has one node per service, each named", async () => {
  const names = await page.$$eval(".service-map .node", (nodes) => nodes.map((n) => n.dataset.service));
  assert.deepEqual([...names].sort(), [...facts.services].sort());
  const edges = await page.$$eval(".service-map .edge", (paths) => paths.length);
  assert.ok(edges > 0 && edges <= facts.edges, `${edges} edges drawn of ${facts.edges}`);
});

test("choosing an incident colours its root cause red and draws its propagation path", async () => {
  for (const incident of facts.incidents.filter((i) => !i.silent)) {
    await page.selectOption("#incident-select", String(incident.id));
    const root = facts.services[incident.root];
    const status = await page.$eval(`.service-map .node[data-service="${root}"]`, (n) => n.dataset.status);
    assert.equal(status, "root", `incident ${incident.id}: ${root}`);
    const fill = await page.$eval(`.service-map .node[data-service="${root}"] rect`,
                                  (r) => getComputedStyle(r).fill);
    assert.equal(fill, "rgb(214, 39, 40)");
    const hot = await page.$$eval(".service-map .edge.propagation", (p) => p.length);
    assert.ok(hot > 0, "a propagation path is highlighted");
    const untouched = await page.$$eval(".service-map .node[data-status=untouched]", (n) => n.length);
    const affected = await page.$$eval(".service-map .node[data-status=affected]", (n) => n.length);
    assert.equal(untouched + affected + 1, facts.services.length);
  }
  await page.selectOption("#incident-select", "all");
});

test("the timeline shows each incident on its root cause's lane at its time", async () => {
  const axis = await page.$eval("svg.timeline", (svg) => ({
    t0: Number(svg.dataset.t0), t1: Number(svg.dataset.t1),
    left: Number(svg.dataset.left), right: Number(svg.dataset.right),
    x: svg.getBoundingClientRect().x,
  }));
  assert.equal(axis.t0, 0);
  assert.ok(Math.abs(axis.t1 - facts.end_s) <= 1, `${axis.t1} vs ${facts.end_s}`);
  const scale = (t) => axis.left + ((t - axis.t0) / (axis.t1 - axis.t0)) * (axis.right - axis.left);
  for (const incident of facts.incidents) {
    const box = await page.$eval(`svg.timeline rect.fault[data-incident="${incident.id}"]`,
                                 (r) => { const b = r.getBoundingClientRect(); return { x: b.x, w: b.width, y: b.y }; });
    assert.ok(Math.abs(box.x - axis.x - scale(incident.start_s)) < 1.5, `incident ${incident.id} starts at x`);
    const end = Math.min(incident.end_s, facts.end_s);
    assert.ok(Math.abs(box.x + box.w - axis.x - Math.max(scale(end), scale(incident.start_s) + 2)) < 1.5,
              `incident ${incident.id} ends at x`);
    // On the lane labelled with the root cause's name.
    const lane = await page.$eval(`svg.timeline text[data-lane="${facts.services[incident.root]}"]`,
                                  (t) => t.getBoundingClientRect().y);
    assert.ok(Math.abs(lane - box.y) < 20, "on its root cause's lane");
  }
});

test("zooming narrows the time axis and a double-click shows the whole run again", async () => {
  await page.click(".timeline-controls button[title='zoom in']");
  const zoomed = await page.$eval("svg.timeline", (svg) => Number(svg.dataset.t1) - Number(svg.dataset.t0));
  assert.ok(Math.abs(zoomed - facts.end_s / 2) < 2, `${zoomed}`);
  await page.dblclick("svg.timeline");
  const whole = await page.$eval("svg.timeline", (svg) => Number(svg.dataset.t1) - Number(svg.dataset.t0));
  assert.ok(Math.abs(whole - facts.end_s) < 2);
  // "show on the timeline" zooms to an incident's window, which holds its start.
  await page.click(`#incident-${facts.incidents[0].id} .zoom-to`);
  const view = await page.$eval("svg.timeline", (svg) => [Number(svg.dataset.t0), Number(svg.dataset.t1)]);
  assert.ok(view[0] <= facts.incidents[0].start_s && facts.incidents[0].start_s <= view[1]);
  assert.ok(view[1] - view[0] < facts.end_s / 10);
});

test("each incident has its metrics charted with the impact window shaded", async () => {
  const panels = await page.$$eval(".incident", (p) => p.map((x) => Number(x.dataset.incident)));
  assert.deepEqual(panels, facts.incidents.map((i) => i.id));
  for (const incident of facts.incidents.filter((i) => !i.silent)) {
    const charts = await page.$$eval(`#incident-${incident.id} .chart`, (c) => c.map((x) => x.dataset.metric));
    for (const metric of ["rps", "error_ratio", "latency_p95_s", "cpu_ratio", "memory_ratio", "ready_replicas"])
      assert.ok(charts.includes(metric), `incident ${incident.id}: ${metric}`);
    const windows = await page.$$eval(`#incident-${incident.id} .impact-window`, (w) => w.length);
    assert.equal(windows, charts.length);
    const text = await page.$eval(`#incident-${incident.id} .incident-facts`, (d) => d.textContent);
    assert.match(text, /TTR/);
    assert.match(text, /TTD/);
  }
});

// Labels of one axis that touch, as "first / second".
const axisOverlaps = (p) => p.$$eval("svg .axis", (axes) => {
  const found = [];
  for (const axis of axes) {
    const boxes = [...axis.querySelectorAll("text")].map((t) => ({ text: t.textContent, b: t.getBBox() }));
    for (let i = 0; i < boxes.length; ++i)
      for (let j = i + 1; j < boxes.length; ++j) {
        const a = boxes[i].b, b = boxes[j].b;
        if (a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 &&
            a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5)
          found.push(`${boxes[i].text} / ${boxes[j].text}`);
      }
  }
  return found;
});

test("no two labels of an axis overlap, on the charts and the timeline", async () => {
  // The incident charts are 320 px wide: five clock labels past the first day ("d1 10:30")
  // touched each other before the labels were thinned.
  assert.deepEqual(await axisOverlaps(page), []);
  const labelled = await page.$$eval(".incident svg .axis text", (t) => t.length);
  assert.ok(labelled > 0, "the incident charts have axis labels");
});

test("a short run's charts have no overlapping labels either", async () => {
  // Minutes with seconds: the first label, anchored inside the axis, reached its
  // neighbour ("00:0000:05", from a new-user audit).
  const scenario = path.join(TMP, "short.yaml");
  writeFileSync(scenario, `name: short
duration: 20m
record: 10s
services:
  - {name: web, replicas: 2, capacity_rps: 200, base_latency: 5ms}
  - {name: api, replicas: 2, capacity_rps: 150, base_latency: 13.3ms}
dependencies: [{caller: web, callee: api, timeout: 300ms, retries: 2}]
traffic: [{name: users, entry: web, base_rps: 100}]
faults:
  - {name: api-errors, kind: error, target: {service: api}, percent: 20, start: 5m, duration: 3m}
  - {name: api-slow, kind: latency, target: {service: api}, fixedDelay: 400ms, start: 12m, duration: 3m}
`);
  const shortTrace = path.join(TMP, "short.h5"), shortReport = path.join(TMP, "short.html");
  dosim("run", scenario, "-q", "-o", shortTrace);
  dosim("report", shortTrace, "-o", shortReport);
  const opened = await openPage(browser, `file://${shortReport}`);
  try {
    assert.deepEqual(await axisOverlaps(opened.page), []);
    const labelled = await opened.page.$$eval(".incident svg .axis text", (t) => t.length);
    assert.ok(labelled > 0, "the incident charts have axis labels");
  } finally {
    await opened.page.close();
  }
});

test("the score table has a row per detector and both baselines", async () => {
  const rows = await page.$$eval(".score-table tbody tr", (r) => r.map((x) => x.dataset.row));
  for (const d of facts.detectors) assert.ok(rows.includes(d), d);
  assert.ok(rows.includes("random baseline") && rows.includes("null baseline"));
  const strips = await page.$$eval(".detector-strips .strip", (s) => s.map((x) => x.dataset.detector));
  assert.deepEqual(strips, facts.detectors);
});

test("the run's facts say how to reproduce it", async () => {
  const text = await page.$eval("#facts", (s) => s.textContent);
  assert.match(text, /seed42/);
  assert.match(text, /dosim run SCENARIO.yaml --seed 42/);
  assert.match(text, /SCENARIO.yaml: the scenario file below, saved/);
  assert.deepEqual(problems, []);
});

test("notifications sent for resolved alerts alone are drawn hollow, apart from the rest", async () => {
  // payments-mad's webhook receivers send_resolved (Alertmanager's default): h5py counts them.
  const pm = path.join(TMP, "payments-mad.h5"), pmReport = path.join(TMP, "payments-mad.html");
  dosim("run", "scenarios/payments-mad.yaml", "-q", "-o", pm);
  dosim("report", pm, "-o", pmReport);
  const counts = JSON.parse(execFileSync("/usr/bin/python3", ["-c", `
import h5py, json, sys
r = h5py.File(sys.argv[1], "r")["notifications/resolution"][()]
print(json.dumps({"resolutions": int(r.sum()), "others": int(len(r) - r.sum())}))`, pm],
  { encoding: "utf8" }));
  assert.ok(counts.resolutions > 0 && counts.others > 0);
  const own = await openPage(browser, `file://${pmReport}`);
  const marks = await own.page.$$eval("svg.timeline .notification", (ms) => ms.map((m) => ({
    resolution: m.classList.contains("resolution"), fill: getComputedStyle(m).fill,
    title: m.querySelector("title")?.textContent || "" })));
  const hollow = marks.filter((m) => m.resolution), solid = marks.filter((m) => !m.resolution);
  // One mark per pixel column and kind at most: never more than the trace holds.
  assert.ok(hollow.length >= 1 && hollow.length <= counts.resolutions, JSON.stringify(counts));
  assert.ok(solid.length >= 1 && solid.length <= counts.others);
  for (const m of hollow) {
    assert.equal(m.fill, "none");
    assert.match(m.title, /^resolution notice/);
  }
  for (const m of solid) assert.match(m.title, /^notification/);
  const legend = await own.page.$eval("#timeline .legend", (l) => l.textContent);
  assert.match(legend, /resolution notice/);
  assert.deepEqual(own.problems, []);
});

test("a change that targets no service (a failover, a drain) has a lane of its own", async () => {
  // regional-failover's failover, failback and drains target regions: the report drew no
  // diamond for any of them. h5py counts the change log's kinds.
  const rf = path.join(TMP, "regional-failover.h5"), rfReport = path.join(TMP, "regional-failover.html");
  dosim("run", "scenarios/regional-failover.yaml", "-q", "-o", rf);
  dosim("report", rf, "-o", rfReport);
  const kinds = JSON.parse(execFileSync("/usr/bin/python3", ["-c", `
import h5py, json, sys
k = h5py.File(sys.argv[1], "r")["events/changes/kind"].asstr()[()]
print(json.dumps(sorted(set(k) & {"failover", "failback", "drain", "drain-restore", "traffic-shift"})))`, rf],
  { encoding: "utf8" }));
  assert.ok(kinds.length > 0);
  const own = await openPage(browser, `file://${rfReport}`);
  const lane = await own.page.$eval('svg.timeline text[data-lane="traffic and regions"]',
                                    (t) => Number(t.getAttribute("y")));
  const drawn = await own.page.$$eval("svg.timeline path.change", (ds, y) => ds.filter((d) => {
    const ys = (d.getAttribute("d").match(/-?[\d.]+/g) || []).map(Number).filter((_, i) => i % 2);
    // The diamond's centre is the lane's middle: 4 px above its label's baseline.
    return Math.abs((Math.min(...ys) + Math.max(...ys)) / 2 - (y - 4)) < 2;
  }).map((d) => d.dataset.kind), lane);
  for (const kind of kinds) assert.ok(drawn.includes(kind), `${kind} not drawn: ${drawn}`);
  assert.deepEqual(own.problems, []);
});

test("a trace stopped on an error says it has no ground truth and scores nothing", async () => {
  // A script error at 50m leaves the trace without /truth: the page said "No incidents:
  // nothing was injected" and scored every detector precision 1.00 against nothing.
  const script = path.join(TMP, "boom.lua");
  writeFileSync(script, 'sim.after("50m", function() error("boom") end)\n');
  const stopped = path.join(TMP, "stopped.h5"), stoppedReport = path.join(TMP, "stopped.html");
  try {
    dosim("run", "scenarios/retry-storm.yaml", "--script", script, "-q", "-o", stopped);
    assert.fail("the script's error stops the run");
  } catch (error) {
    assert.equal(error.status, 2);
  }
  dosim("report", stopped, "-o", stoppedReport);
  const own = await openPage(browser, `file://${stoppedReport}`);
  const incidents = await own.page.$eval("#incidents", (s) => s.textContent);
  assert.match(incidents, /No ground truth/);
  assert.doesNotMatch(incidents, /nothing was injected/);
  assert.equal(await own.page.$$eval("#scores table.score-table", (t) => t.length), 0);
  assert.match(await own.page.$eval("#scores", (s) => s.textContent), /Not scored/);
  assert.match(await own.page.$eval("#subtitle", (s) => s.textContent), /no ground truth/);
  assert.deepEqual(own.problems, []);
});

test("durations are rounded before they are split: no 60 of a unit", async () => {
  // 1 h 59 min 31 s read "1 h 60 min", 59.6 s "60 s".
  const said = await page.evaluate(() =>
    [7171, 59.6, 0.9996, 3599.6, 86399, 125.4, 9.96, 0.25].map((s) => DosimCharts.duration(s)));
  assert.deepEqual(said, ["2 h", "1 min", "1 s", "1 h", "1 d", "2 min 5 s", "10 s", "250 ms"]);
});

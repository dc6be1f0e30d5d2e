// bench_report.js: the charts of `dosim bench --report`, drawn into #bench-charts from the
// bench's results JSON (embedded as dosim-data; docs/scoring.md describes its keys). The
// tables are in the page's markup already (analysis/bench_report.cc). Every chart is drawn on
// its own: one that fails shows a .render-error message in its place and the others still
// draw. Values that are null in the JSON (a detector that detected nothing has no TTD; false
// alarms per hour without fault-free time) are left out, as the bench's table leaves them out.
//
// Stable hooks for tests (tests/test_bench.py, the browser test):
//   table.bench-table[data-overall]          the table over all runs (the bench's own summary)
//   table.bench-table[data-scenario=PATH]    one per scenario, PATH as in --scenarios
//     tr[data-detector=NAME]                 one per detector, then "null" (tr.baseline)
//     td[data-metric=KEY]                    a cell: the runs' median, span.range min-max
//   circle.pr-point[data-detector][data-scenario][data-seed]   a run's precision and recall
//   circle.pr-random[...same]                the random baseline at that run's alert rate
//   rect.pr-null[data-detector=null]         the null baseline
//   g.ttd[data-detector]                     a detector's TTDs: rect.ttd-box, circle.ttd-point
//   rect.fa-bar[data-detector]               false alarms per hour, median over all runs
//   rect.fa-random-bar[data-detector]        the same for the random baseline
"use strict";

(() => {
  const C = DosimCharts;

  const finite = (v) => typeof v === "number" && isFinite(v);
  const exact = (v) => (finite(v) ? String(v) : "none");
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

  // Median (the mean of the two middle values for an even count), min and max of the finite
  // values, as the bench computes its summary.
  function spread(values) {
    const v = values.filter(finite).sort((a, b) => a - b);
    const n = v.length;
    if (n === 0) return { median: null, min: null, max: null, runs: 0 };
    const median = n % 2 ? v[n >> 1] : (v[n / 2 - 1] + v[n / 2]) / 2;
    return { median, min: v[0], max: v[n - 1], runs: n };
  }

  // Nearest-rank percentile of ascending values, p in [0, 100] (dosim's rule for TTDs).
  function percentile(sorted, p) {
    if (sorted.length === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[Math.min(sorted.length, rank) - 1];
  }

  // A deterministic jitter in [-0.5, 0.5) for the i-th point: the same page every time.
  function jitter(i) {
    const x = Math.sin((i + 1) * 12.9898) * 43758.5453;
    return x - Math.floor(x) - 0.5;
  }

  function baseName(path) {
    const parts = String(path).split(/[\\/]/);
    return parts[parts.length - 1] || String(path);
  }

  // The model the charts draw from: rows (detectors, then "null"), colours, scenario labels.
  function model(data) {
    if (!data || !Array.isArray(data.detectors) || !Array.isArray(data.runs))
      throw new Error("this is not the results JSON of dosim bench (no detectors or runs)");
    const detectors = [...new Set(data.detectors.map(String))];
    const rows = [...detectors, "null"];
    const runs = data.runs.filter((r) => r && typeof r === "object");
    const scenarios = [...new Set(Array.isArray(data.scenarios) && data.scenarios.length
                                      ? data.scenarios.map(String)
                                      : runs.map((r) => String(r.scenario)))];
    // A scenario by its file name, or its path where two share a file name.
    const bases = scenarios.map(baseName);
    const label = new Map(scenarios.map((s, i) => [
      s, bases.filter((b) => b === bases[i]).length === 1 ? bases[i] : s]));
    const color = new Map(detectors.map((d, i) => [d, C.palette[i % C.palette.length]]));
    color.set("null", "var(--untouched)");
    const scoresOf = (run, row) => (run.scores && run.scores[row]) || {};
    const valuesOf = (list, row, key) => list.map((r) => scoresOf(r, row)[key]);
    return { data, detectors, rows, runs, scenarios, label, color, scoresOf, valuesOf,
             rowName: (row) => (row === "null" ? "null (no alerts)" : row),
             seedOf: (run) => exact(run.seed) };
  }

  // A part of the page: `draw(section)` fills the section; a failure shows in its place.
  function part(parent, id, heading, intro, draw) {
    const section = C.html("section", { id }, parent);
    C.html("h2", { text: heading }, section);
    if (intro) C.html("p", { class: "muted intro", text: intro }, section);
    try {
      draw(section);
    } catch (error) {
      C.html("p", { class: "render-error",
                    text: `This part could not be drawn: ${error && error.message}` }, section);
    }
    return section;
  }

  // ---- Legend ---------------------------------------------------------------------------

  // Swatches per row; clicking one hides or shows that row's marks in `scope`.
  function legend(parent, m, rows, scope, extra = []) {
    const box = C.html("div", { class: "legend" }, parent);
    for (const row of rows) {
      const item = C.html("span", { class: "item", "data-detector": row, role: "button",
                                    tabindex: "0" }, box);
      C.html("span", { class: "swatch", style: `background:${m.color.get(row)}` }, item);
      C.html("span", { text: m.rowName(row) }, item);
      C.titled(item, "click to hide or show");
      const toggle = () => {
        const off = item.classList.toggle("off");
        for (const node of scope.querySelectorAll("[data-detector]"))
          if (node.getAttribute("data-detector") === row) node.classList.toggle("off-detector", off);
      };
      item.addEventListener("click", toggle);
      item.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") toggle(); });
    }
    for (const [symbol, text] of extra) {
      const item = C.html("span", { class: "item static" }, box);
      C.html("span", { class: "symbol", text: symbol }, item);
      C.html("span", { text }, item);
    }
    return box;
  }

  // ---- Precision / recall ---------------------------------------------------------------

  function drawScatter(m, section) {
    const controls = C.html("div", { class: "controls" }, section);
    const width = 560, height = 480;
    const mg = { left: 48, right: 16, top: 12, bottom: 40 };
    const chart = C.html("div", { class: "bench-chart" }, section);
    const svg = C.el("svg", { width, height, viewBox: `0 0 ${width} ${height}`,
                              class: "pr-scatter" }, chart);
    const x = C.linear(-0.04, 1.04, mg.left, width - mg.right);
    const y = C.linear(-0.04, 1.04, height - mg.bottom, mg.top);
    const grid = C.el("g", { class: "grid" }, svg);
    const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1];
    for (const t of ticks) {
      C.el("line", { x1: x(t), x2: x(t), y1: y(-0.04), y2: y(1.04) }, grid);
      C.el("line", { x1: x(-0.04), x2: x(1.04), y1: y(t), y2: y(t) }, grid);
    }
    // Curves of equal F1: precision = F r / (2r - F).
    const iso = C.el("g", { class: "f1-iso" }, svg);
    for (const f of [0.2, 0.4, 0.6, 0.8]) {
      let d = "";
      for (let i = 0; i <= 60; ++i) {
        const r = f / 2 + ((1 - f / 2) * i) / 60;
        const p = (f * r) / (2 * r - f);
        if (p > 1.04) continue;
        d += `${d ? "L" : "M"}${x(r).toFixed(1)},${y(p).toFixed(1)}`;
      }
      C.titled(C.el("path", { d }, iso), `F1 = ${f}`);
      const p = 0.93, r = (f * p) / (2 * p - f);  // the label near the curve's top end
      C.el("text", { x: x(r) + 4, y: y(p), text: `F1 ${f}` }, iso);
    }
    C.axisBottom(svg, x, height - mg.bottom, ticks, (t) => t.toFixed(1));
    C.axisLeft(svg, y, mg.left, ticks, (t) => t.toFixed(1));
    C.el("text", { x: (mg.left + width - mg.right) / 2, y: height - 6, "text-anchor": "middle",
                   class: "axis-label", text: "recall" }, svg);
    C.el("text", { x: 12, y: (mg.top + height - mg.bottom) / 2, "text-anchor": "middle",
                   class: "axis-label", transform: `rotate(-90 12 ${(mg.top + height - mg.bottom) / 2})`,
                   text: "precision" }, svg);

    const randomLayer = C.el("g", { class: "pr-randoms" }, svg);
    const nullLayer = C.el("g", { class: "pr-nulls" }, svg);
    const pointLayer = C.el("g", { class: "pr-points" }, svg);
    const jx = (i) => jitter(i) * 8, jy = (i) => jitter(i + 7919) * 8;  // up to 4 px
    let index = 0;
    // The null baseline: one mark per distinct (recall, precision) over the runs.
    const nulls = new Map();
    for (const run of m.runs) {
      const s = m.scoresOf(run, "null");
      if (!finite(s.precision) || !finite(s.recall)) continue;
      const key = `${s.recall},${s.precision}`;
      if (!nulls.has(key)) nulls.set(key, { recall: s.recall, precision: s.precision, runs: 0 });
      nulls.get(key).runs += 1;
    }
    for (const n of nulls.values())
      C.titled(C.el("rect", { class: "pr-null", "data-detector": "null", x: x(n.recall) - 5,
                              y: y(n.precision) - 5, width: 10, height: 10 }, nullLayer),
               `null baseline (no alerts) in ${plural(n.runs, "run")}: precision ` +
               `${exact(n.precision)} (1 by convention without alerts), recall ${exact(n.recall)}`);
    for (const run of m.runs) {
      const where = `${m.label.get(String(run.scenario)) || run.scenario}, seed ${m.seedOf(run)}`;
      for (const d of m.detectors) {
        const s = m.scoresOf(run, d);
        const i = index++;
        const attrs = { "data-detector": d, "data-scenario": String(run.scenario),
                        "data-seed": m.seedOf(run) };
        if (finite(s.precision_random) && finite(s.recall_random))
          C.titled(C.el("circle", { class: "pr-random", ...attrs, r: 3.5,
                                    cx: (x(s.recall_random) + jx(i)).toFixed(1),
                                    cy: (y(s.precision_random) + jy(i)).toFixed(1),
                                    stroke: m.color.get(d) }, randomLayer),
                   `random baseline at ${d}'s alert rate, ${where}\nprecision ` +
                   `${exact(s.precision_random)}, recall ${exact(s.recall_random)}`);
        if (!finite(s.precision) || !finite(s.recall)) continue;
        const alerts = finite(s.alerts) ? s.alerts : null;
        const matched = alerts !== null && finite(s.false_alarms) ? alerts - s.false_alarms : null;
        let title = `${d}, ${where}\nprecision ${exact(s.precision)}` +
                    (alerts !== null && matched !== null ? ` (${matched} of ${alerts} alerts matched)` : "") +
                    `\nrecall ${exact(s.recall)}` +
                    (finite(s.detected_incidents) && finite(s.scored_incidents)
                         ? ` (${s.detected_incidents} of ${s.scored_incidents} incidents detected)` : "") +
                    `\nF1 ${exact(s.f1)}`;
        if (finite(s.precision_random))
          title += `\nrandom baseline: precision ${exact(s.precision_random)}, recall ` +
                   `${exact(s.recall_random)}, F1 ${exact(s.f1_random)}`;
        C.titled(C.el("circle", { class: "pr-point", ...attrs, r: 4,
                                  cx: (x(s.recall) + jx(i)).toFixed(1),
                                  cy: (y(s.precision) + jy(i)).toFixed(1),
                                  fill: m.color.get(d) }, pointLayer), title);
      }
    }
    legend(section, m, m.rows, svg, [["○", "random baseline at the detector's alert rate"],
                                     ["□", "null baseline (no alerts)"]]);
    C.html("p", { class: "muted note",
                  text: "One filled point per run and detector, its random baseline hollow in the " +
                        "same colour; points are moved by up to 4 px so that equal ones stay " +
                        "visible; hover for exact values." }, section);
    // Show one scenario's runs, or all.
    if (m.scenarios.length > 1) {
      const label = C.html("label", { text: "scenario " }, controls);
      const select = C.html("select", { class: "scenario-filter" }, label);
      C.html("option", { value: "", text: "all scenarios" }, select);
      for (const s of m.scenarios) C.html("option", { value: s, text: m.label.get(s) }, select);
      select.addEventListener("change", () => {
        for (const node of svg.querySelectorAll("[data-scenario]"))
          node.classList.toggle("off-scenario",
                                select.value !== "" && node.getAttribute("data-scenario") !== select.value);
      });
    }
  }

  // ---- Time to detect -------------------------------------------------------------------

  // Ticks for durations in seconds on a log scale: 1-2-5 steps of time, at most ~7.
  function logTimeTicks(lo, hi) {
    const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60,
                   120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
                   604800, 1209600, 2419200];
    let ticks = steps.filter((t) => t >= lo && t <= hi);
    while (ticks.length > 7) ticks = ticks.filter((_, i) => i % 2 === 0);
    return ticks;
  }

  function drawTtd(m, section) {
    const rows = m.rows.map((row) => {
      const points = [];
      let detected = 0, scored = 0;
      for (const run of m.runs) {
        const s = m.scoresOf(run, row);
        let values = Array.isArray(s.ttd_s) ? s.ttd_s
                   : Array.isArray(s.time_to_detect_ns) ? s.time_to_detect_ns.map((v) => v / 1e9)
                   : [];
        for (const v of values)
          if (finite(v)) points.push({ v, scenario: String(run.scenario), seed: m.seedOf(run) });
        if (finite(s.detected_incidents)) detected += s.detected_incidents;
        if (finite(s.scored_incidents)) scored += s.scored_incidents;
      }
      const sorted = points.map((p) => p.v).sort((a, b) => a - b);
      return { row, points, sorted, detected, scored };
    });
    const all = rows.flatMap((r) => r.sorted);
    let lo = all.length ? Infinity : 0, hi = all.length ? -Infinity : 1;  // no spread: many
    for (const v of all) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const log = all.length > 0 && lo > 0 && hi / lo >= 50;
    const width = 820, rowHeight = 40;
    const mg = { left: 150, right: 24, top: 8, bottom: 34 };
    const height = mg.top + mg.bottom + rowHeight * rows.length;
    const chart = C.html("div", { class: "bench-chart" }, section);
    const svg = C.el("svg", { width, height, viewBox: `0 0 ${width} ${height}`,
                              class: "ttd-chart" }, chart);
    let x, ticks;
    if (log) {
      const l = C.linear(Math.log10(lo / 1.2), Math.log10(hi * 1.2), mg.left, width - mg.right);
      x = (v) => l(Math.log10(v));
      x.range = l.range;
      ticks = logTimeTicks(lo / 1.2, hi * 1.2);
    } else {
      const top = hi > 0 ? hi * 1.05 : 1;
      x = C.linear(Math.min(0, lo), top, mg.left, width - mg.right);
      ticks = top >= 5 ? C.timeTicks(0, top, 7) : C.niceTicks(0, top, 5);
    }
    const grid = C.el("g", { class: "grid" }, svg);
    for (const t of ticks)
      C.el("line", { x1: x(t), x2: x(t), y1: mg.top, y2: height - mg.bottom }, grid);
    C.axisBottom(svg, x, height - mg.bottom, ticks, (t) => (t === 0 ? "0" : C.duration(t)));
    C.el("text", { x: (mg.left + width - mg.right) / 2, y: height - 4, "text-anchor": "middle",
                   class: "axis-label",
                   text: `time to detect, per detected incident${log ? " (log scale)" : ""}` }, svg);
    let index = 0;
    rows.forEach((r, k) => {
      const g = C.el("g", { class: "ttd", "data-detector": r.row }, svg);
      const mid = mg.top + rowHeight * k + rowHeight / 2;
      C.el("text", { x: 8, y: mid - 2, text: m.rowName(r.row), class: "row-label" }, g);
      C.el("text", { x: 8, y: mid + 11, class: "row-sub",
                     text: r.scored ? `${r.detected} of ${r.scored} incidents` : "no scored incidents" },
           g);
      if (!r.sorted.length) {
        C.el("text", { x: mg.left + 6, y: mid + 4, class: "row-sub",
                       text: r.row === "null" ? "no alerts: detects nothing" : "detected nothing" }, g);
        return;
      }
      const color = m.color.get(r.row);
      const q = (p) => percentile(r.sorted, p);
      const [min, p25, p50, p75, p90, max] = [0, 25, 50, 75, 90, 100].map(q);
      const mean = r.sorted.reduce((a, b) => a + b, 0) / r.sorted.length;
      const title = `${r.row}: ${plural(r.sorted.length, "detected incident")} over ` +
                    `${plural(m.runs.length, "run")}\nmin ${C.duration(min)} (${exact(min)} s)\n` +
                    `p25 ${C.duration(p25)} (${exact(p25)} s)\nmedian ${C.duration(p50)} ` +
                    `(${exact(p50)} s)\np75 ${C.duration(p75)} (${exact(p75)} s)\np90 ` +
                    `${C.duration(p90)} (${exact(p90)} s)\nmax ${C.duration(max)} (${exact(max)} s)` +
                    `\nmean ${C.duration(mean)} (${exact(mean)} s)\npercentiles by nearest rank`;
      // A faint box under the dots (fainter the more there are), its outline over them: the
      // dots inside keep their hover titles, the outline and the median have the summary's.
      C.el("rect", { class: "ttd-box-fill", x: x(p25), y: mid - 9,
                     width: Math.max(1, x(p75) - x(p25)), height: 18, fill: color }, g);
      const opacity = Math.max(0.15, Math.min(0.6, 60 / r.points.length));
      for (const p of r.points) {
        const i = index++;
        C.titled(C.el("circle", { class: "ttd-point", "data-scenario": p.scenario,
                                  "data-seed": p.seed, r: 2.4, cx: x(p.v).toFixed(1),
                                  cy: (mid + jitter(i) * 22).toFixed(1), fill: color,
                                  "fill-opacity": opacity.toFixed(2) }, g),
                 `${r.row}, ${m.label.get(p.scenario) || p.scenario}, seed ${p.seed}: ` +
                 `TTD ${C.duration(p.v)} (${exact(p.v)} s)`);
      }
      C.titled(C.el("line", { class: "ttd-whisker", x1: x(min), x2: x(max), y1: mid, y2: mid,
                              stroke: color }, g), title);
      C.titled(C.el("rect", { class: "ttd-box", x: x(p25), y: mid - 9,
                              width: Math.max(1, x(p75) - x(p25)), height: 18,
                              stroke: "var(--fg)", fill: "none" }, g), title);
      C.titled(C.el("line", { class: "ttd-median", x1: x(p50), x2: x(p50), y1: mid - 11,
                              y2: mid + 11, stroke: "var(--fg)" }, g), title);
    });
  }

  // ---- False alarms per hour ------------------------------------------------------------

  function drawFalseAlarms(m, section) {
    const summary = m.data.summary || {};
    const spreadOf = (row, key) => {
      const s = summary[row] && summary[row][key];
      return s && typeof s === "object" ? s : spread(m.valuesOf(m.runs, row, key));
    };
    const rows = m.rows.map((row) => {
      const runs = m.runs.map((run) => ({ run, v: m.scoresOf(run, row).false_alarms_per_hour }));
      const missing = runs.filter((p) => !finite(p.v)).length;
      return { row, s: spreadOf(row, "false_alarms_per_hour"),
               random: row === "null" ? null : spreadOf(row, "false_alarms_per_hour_random"),
               runs: runs.filter((p) => finite(p.v)), missing };
    });
    let hi = 0;
    for (const r of rows) {
      for (const p of r.runs) hi = Math.max(hi, p.v);
      for (const s of [r.s, r.random]) if (s && finite(s.max)) hi = Math.max(hi, s.max);
    }
    if (!(hi > 0)) hi = 1;
    const width = 820, rowHeight = 44;
    const mg = { left: 150, right: 70, top: 8, bottom: 34 };
    const height = mg.top + mg.bottom + rowHeight * rows.length;
    const chart = C.html("div", { class: "bench-chart" }, section);
    const svg = C.el("svg", { width, height, viewBox: `0 0 ${width} ${height}`,
                              class: "fa-chart" }, chart);
    const x = C.linear(0, hi * 1.05, mg.left, width - mg.right);
    const ticks = C.niceTicks(0, hi * 1.05, 6);
    const grid = C.el("g", { class: "grid" }, svg);
    for (const t of ticks)
      C.el("line", { x1: x(t), x2: x(t), y1: mg.top, y2: height - mg.bottom }, grid);
    C.axisBottom(svg, x, height - mg.bottom, ticks, C.number);
    C.el("text", { x: (mg.left + width - mg.right) / 2, y: height - 4, "text-anchor": "middle",
                   class: "axis-label", text: "false alarms per fault-free hour" }, svg);
    const describe = (s) => (s && s.runs ? `median ${exact(s.median)}, min ${exact(s.min)}, max ` +
                                           `${exact(s.max)} over ${plural(s.runs, "run")}`
                                         : "no run has a value");
    let index = 0;
    rows.forEach((r, k) => {
      const top = mg.top + rowHeight * k;
      const color = m.color.get(r.row);
      const g = C.el("g", { class: "fa", "data-detector": r.row }, svg);
      C.el("text", { x: 8, y: top + rowHeight / 2 + 4, text: m.rowName(r.row), class: "row-label" },
           g);
      // The detector's bar, and under it the random baseline's at the same alert rate.
      const bars = [{ s: r.s, cls: "fa-bar", y: top + 6, h: 16,
                      title: `${m.rowName(r.row)}: false alarms per fault-free hour, ${describe(r.s)}` +
                             (r.missing ? `\n${r.missing} run(s) without fault-free time left out` : "") }];
      if (r.random)
        bars.push({ s: r.random, cls: "fa-random-bar", y: top + 25, h: 10,
                    title: `random baseline at ${r.row}'s alert rate: ${describe(r.random)}` });
      for (const b of bars) {
        const median = b.s && finite(b.s.median) ? b.s.median : 0;
        C.titled(C.el("rect", { class: b.cls, "data-detector": r.row, x: x(0), y: b.y,
                                width: Math.max(0, x(median) - x(0)).toFixed(1), height: b.h,
                                fill: b.cls === "fa-bar" ? color : "none", stroke: color }, g),
                 b.title);
        if (b.s && b.s.runs && finite(b.s.min) && finite(b.s.max) && b.s.max > b.s.min)
          C.titled(C.el("line", { class: "fa-range", x1: x(b.s.min), x2: x(b.s.max),
                                  y1: b.y + b.h / 2, y2: b.y + b.h / 2, stroke: "var(--fg)" }, g),
                   b.title);
        if (b.cls === "fa-bar")
          C.el("text", { x: x(b.s && finite(b.s.max) ? b.s.max : median) + 6, y: b.y + b.h - 3,
                         class: "value", text: b.s && b.s.runs ? C.number(b.s.median) : "-" }, g);
      }
      for (const p of r.runs) {
        const i = index++;
        C.titled(C.el("circle", { class: "fa-run", "data-scenario": String(p.run.scenario),
                                  "data-seed": m.seedOf(p.run), r: 2, cx: x(p.v).toFixed(1),
                                  cy: (top + 14 + jitter(i) * 10).toFixed(1) }, g),
                 `${r.row}, ${m.label.get(String(p.run.scenario)) || p.run.scenario}, seed ` +
                 `${m.seedOf(p.run)}: ${exact(p.v)} false alarms per fault-free hour`);
      }
    });
    legend(section, m, m.rows, svg, [["▭", "random baseline at the detector's alert rate"],
                                     ["•", "one run"], ["—", "min to max over the runs"]]);
  }

  // ---- The page ---------------------------------------------------------------------------

  function draw() {
    const main = document.getElementById("bench-charts") || document.body;
    let m;
    try {
      m = model(C.data("dosim-data"));
    } catch (error) {
      C.html("p", { class: "render-error", text: `No results to show: ${error && error.message}` },
             main);
      return;
    }
    // The tables' swatches (the tables themselves are in the page's markup).
    for (const swatch of document.querySelectorAll("table.bench-table .swatch[data-detector]"))
      swatch.style.background = m.color.get(swatch.getAttribute("data-detector")) || "";
    const random = "The random baseline raises as many alerts as the detector in the same run, " +
                   "at random times on random services; the null baseline raises none.";
    part(main, "precision-recall", "Precision and recall per run", random,
         (section) => drawScatter(m, section));
    part(main, "time-to-detect", "Time to detect",
         "Every detected incident's time to detect, over all runs: the box spans the 25th to the " +
         "75th percentile with the median marked, the line min to max, a dot per incident.",
         (section) => drawTtd(m, section));
    part(main, "false-alarms", "False alarms per fault-free hour",
         "Median over all runs (bar), min to max (line) and each run (dots), the random baseline " +
         "at the same alert rate under each detector.", (section) => drawFalseAlarms(m, section));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

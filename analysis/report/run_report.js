// run_report.js: the run report's page (analysis/run_report.cc writes its data): the facts,
// the service map, the timeline, each incident's metrics, the score table and each
// detector's alerts against the impact windows. Every section is built from the embedded
// dosim-data JSON; nothing is fetched.
"use strict";

(() => {
  const C = DosimCharts;
  const data = C.data("dosim-data");
  const root = document.getElementById("report");
  root.textContent = "";
  const facts = data.facts;
  const span = Math.max(facts.simulated_s || 0, 1);
  const names = data.services.map((s) => s.name);
  const scored = data.incidents.filter((i) => !i.silent);
  // An interrupted run's incident due after it stopped never began (not silent: not scored).
  const notBegun = (i) => i.silent && !facts.complete && i.start >= facts.simulated_s;
  const detectorColor = (d) => C.palette[d % C.palette.length];
  const METRIC_LABELS = {
    rps: "requests/s", error_ratio: "error ratio", latency_p95_s: "p95 latency (s)",
    cpu_ratio: "CPU", memory_ratio: "memory", ready_replicas: "ready replicas",
  };

  document.getElementById("title").textContent = `${facts.scenario} — dosim report`;
  document.getElementById("subtitle").textContent =
    `seed ${facts.seed} · ${C.duration(facts.simulated_s)} simulated · ${C.count(data.services.length, "service")} · ` +
    (facts.truth ? C.count(data.incidents.length, "incident") : "no ground truth") +
    ` · ${C.count(data.alerts.t.length, "alert")}` +
    (facts.complete ? "" : " · INCOMPLETE trace (the run was interrupted or stopped on an error)");

  function section(id, title) {
    const s = C.html("section", { id }, root);
    C.html("h2", { text: title }, s);
    return s;
  }

  // --- the service map --------------------------------------------------------------------
  const mapSection = section("map", "Service map");
  const mapBar = C.html("div", { class: "map-bar" }, mapSection);
  C.html("label", { text: "Colour by ", for: "incident-select" }, mapBar);
  const select = C.html("select", { id: "incident-select" }, mapBar);
  C.html("option", { value: "all", text: "every incident" }, select);
  for (const i of data.incidents)
    C.html("option", { value: i.id, text: `incident ${i.id}: ${i.name} (${i.cause} at ${i.root_cause})` +
                                           (notBegun(i) ? " — not begun" : i.silent ? " — silent" : "") }, select);
  const legend = C.html("div", { class: "legend" }, mapSection);
  for (const [cls, text] of [["root", "root cause"], ["affected", "affected"], ["untouched", "untouched"]]) {
    const item = C.html("span", {}, legend);
    C.html("span", { class: "swatch", style: `background: var(--${cls})` }, item);
    item.append(text);
  }
  const hot = C.html("span", {}, legend);
  C.html("span", { class: "swatch", style: "background: var(--root); height: 3px" }, hot);
  hot.append("propagation path (the effect travels from callee to caller)");
  const mapHolder = C.html("div", { class: "panel scroll" }, mapSection);
  const details = C.html("div", { class: "service-details" }, mapSection);

  function stateFor(choice) {
    const incidents = choice === "all" ? data.incidents : data.incidents.filter((i) => String(i.id) === choice);
    const state = new Array(names.length).fill("untouched");
    for (const i of incidents) for (const s of i.affected) state[s] = "affected";
    for (const i of incidents) for (const r of i.roots) state[r] = "root";
    const highlight = new Set();
    for (const i of incidents) for (const e of i.propagation) highlight.add(e);
    return { state, highlight };
  }
  let chosen = stateFor("all");
  const map = DosimMap.draw(mapHolder, {
    services: data.services, edges: data.edges, state: (s) => chosen.state[s],
    highlight: chosen.highlight, onSelect: showService,
    describe: (s) => [data.services[s].region, data.services[s].zone].filter(Boolean).join(" / "),
  });
  select.addEventListener("change", () => {
    chosen = stateFor(select.value);
    map.update({ highlight: chosen.highlight });
  });

  function showService(members) {
    details.textContent = "";
    for (const g of map.svg.querySelectorAll(".node.selected")) g.classList.remove("selected");
    const s = members[0];
    const node = map.svg.querySelector(`.node[data-node="${map.layout.nodeOf[s]}"]`);
    if (node) node.classList.add("selected");
    if (members.length > 1) {
      C.html("p", { text: `${members.length} services: ` + members.map((m) => names[m]).join(", ") }, details);
      return;
    }
    C.html("h3", { text: `${names[s]} over the whole run` }, details);
    const o = data.overview;
    const column = o.services.indexOf(s);
    if (column < 0) {
      C.html("p", { class: "muted", text: "Nothing happened to this service; a large run's report " +
                                          "carries the whole-run series of the services something happened to." }, details);
      return;
    }
    const grid = C.html("div", { class: "charts" }, details);
    const windows = scored.filter((i) => i.affected.includes(s))
      .map((i) => ({ t0: i.impact_start, t1: i.impact_end, title: `incident ${i.id}` }));
    for (const metric of Object.keys(o.metrics)) {
      const box = C.html("div", { class: "chart" }, grid);
      C.html("h3", { text: METRIC_LABELS[metric] || metric }, box);
      C.lineChart(box, { x: [0, span], series: [{ t: o.t, v: o.metrics[metric][column], label: metric }],
                         windows, width: 320, height: 110 });
    }
  }

  // --- the timeline -----------------------------------------------------------------------
  const timelineSection = section("timeline", "Timeline");
  const tlLegend = C.html("div", { class: "legend" }, timelineSection);
  const legendItem = (style, text) => {
    const item = C.html("span", {}, tlLegend);
    C.html("span", { class: "swatch", style }, item);
    item.append(text);
  };
  legendItem("background: var(--root)", "fault (cause)");
  legendItem("background: var(--window)", "impact window");
  legendItem("background: var(--accent); transform: rotate(45deg)", "change");
  legendItem("background: var(--muted)", "notification");
  if (data.notifications.some((n) => n.resolution))
    legendItem("border: 1.5px solid var(--muted); background: none", "resolution notice");
  if ((data.remediation || []).length) legendItem("background: #6a3d9a", "responder action");
  for (const [s, text] of [[1, "Sev1"], [2, "Sev2"], [3, "Sev3"]]) legendItem(`background: var(--sev${s})`, text);
  data.detectors.forEach((d, i) => legendItem(`background: ${detectorColor(i)}; border-radius: 50%`, `alert: ${d}`));
  const timeline = DosimTimeline.draw(C.html("div", { class: "panel" }, timelineSection), data);

  // --- incidents --------------------------------------------------------------------------
  const incidentSection = section("incidents", "Incidents");
  if (!facts.truth)
    C.html("p", { class: "muted", text: "No ground truth: the run stopped (on an error or an interrupt) before " +
                                        "writing it, so the faults that began are not known from this trace and " +
                                        "nothing is scored." }, incidentSection);
  else if (!data.incidents.length)
    C.html("p", { class: "muted", text: "No incidents: nothing was injected." }, incidentSection);
  for (const i of data.incidents) {
    const box = C.html("div", { class: "panel incident", id: `incident-${i.id}`, "data-incident": i.id }, incidentSection);
    const head = C.html("h3", {}, box);
    head.textContent = `Incident ${i.id}: ${i.name} — ${i.cause} at ${i.root_cause}`;
    const zoomTo = C.html("button", { text: "show on the timeline", class: "zoom-to" }, head);
    zoomTo.addEventListener("click", () => {
      timeline.show(i.window[0], i.window[1]);
      document.getElementById("timeline").scrollIntoView({ behavior: "smooth" });
    });
    const lines = C.html("div", { class: "incident-facts" }, box);
    const fact = (k, v) => { const p = C.html("div", {}, lines); C.html("b", { text: k + " " }, p); p.append(v); };
    // A window's ends with seconds where the window is under ten minutes (the span shown).
    fact("cause", `${C.clock(i.start, i.end - i.start)} – ${C.clock(i.end, i.end - i.start)} (${C.duration(i.end - i.start)})`);
    // An interrupted run's incident due after it stopped never began: nothing to chart.
    if (notBegun(i)) {
      fact("impact", "none: the run stopped before its cause began (not scored)");
      continue;
    }
    if (i.silent) {
      fact("impact", "none: the fault changed nothing measurable (silent, not scored)");
    } else {
      const impactSpan = i.impact_end - i.impact_start;
      fact("impact", `${C.clock(i.impact_start, impactSpan)} – ${C.clock(i.impact_end, impactSpan)}` +
                     (i.ongoing ? " (still impacting when the run ended)" : ""));
      fact("TTR", C.duration(i.ttr));
      const ttd = Object.entries(i.ttd).map(([d, t]) => `${d} ${t === null ? "missed" : C.duration(t)}`);
      fact("TTD", ttd.length ? ttd.join(" · ") : "no detector ran");
      fact("affected", i.affected.map((s) => names[s]).join(", ") || "-");
      const loop = (i.loop || []).filter((e) => !["impact-start", "verify", "approval"].includes(e.event));
      if ((data.remediation || []).length && loop.length)
        fact("loop", loop.map((e) => `${e.event} +${C.duration(e.t - i.impact_start)}`).join(" · "));
      const ranked = Object.entries(i.rca || {});
      if (ranked.length)
        fact(ranked[0][1].delay_s ? `root cause ranked ${C.duration(ranked[0][1].delay_s)} after detection:`
                                  : "root cause ranked at detection:",
             ranked.map(([r, v]) => `${r} → ${v.top.map((c) => c.replace(/^service:/, "")).join(", ")}`).join(" · "));
    }
    const A = data.alerts;
    const series = i.series;
    const grid = C.html("div", { class: "incident-charts" }, box);
    series.services.forEach((s, column) => {
      const row = C.html("div", { class: "incident-row" }, grid);
      C.html("div", { class: "incident-service", text: names[s] + (i.roots.includes(s) ? " (root cause)" : "") }, row);
      const charts = C.html("div", { class: "charts" }, row);
      const marks = [];
      for (let a = 0; a < A.t.length; ++a)
        if (A.service[a] === s && A.t[a] >= i.window[0] && A.t[a] <= i.window[1])
          marks.push({ t: A.t[a], color: detectorColor(A.detector[a]),
                       title: `${data.detectors[A.detector[a]]}: ${A.metric[a]} at ${C.clock(A.t[a], span)}` +
                              (A.incident[a] === i.id ? "" : A.incident[a] < 0 ? " (false alarm)" : ` (incident ${A.incident[a]})`) });
      for (const metric of Object.keys(series.metrics)) {
        const chart = C.html("div", { class: "chart", "data-metric": metric }, charts);
        C.html("h3", { text: METRIC_LABELS[metric] || metric }, chart);
        C.lineChart(chart, {
          x: i.window, series: [{ t: series.t, v: series.metrics[metric][column], label: metric }],
          windows: i.silent ? [] : [{ t0: i.impact_start, t1: i.impact_end, title: "impact window" }],
          marks, width: 220, height: 100,
        });
      }
    });
    const uncharted = i.affected.filter((s) => !series.services.includes(s)).length;
    if (uncharted > 0)
      C.html("p", { class: "muted", text: `${uncharted} more affected services are not charted.` }, box);
  }

  // --- scores -----------------------------------------------------------------------------
  const scoreSection = section("scores", "Scores");
  const table = C.html("table", { class: "data score-table" }, scoreSection);
  const header = C.html("tr", {}, C.html("thead", {}, table));
  const columns = [
    ["alerts", "alerts", (r) => r.alerts],
    ["precision", "precision", (r) => r.precision.toFixed(2)],
    ["recall", "recall", (r) => r.recall.toFixed(2)],
    ["f1", "F1", (r) => r.f1.toFixed(2)],
    ["ttd", "TTD p50", (r) => (r.detected_incidents ? C.duration(r.time_to_detect_median_ns / 1e9) : "-")],
    ["ttd90", "TTD p90", (r) => (r.detected_incidents ? C.duration(r.time_to_detect_p90_ns / 1e9) : "-")],
    ["fa", "false alarms/h", (r) => (r.false_alarms_per_hour === null ? "∞" : C.number(r.false_alarms_per_hour))],
    ["nab", "NAB", (r) => r.nab_standard.toFixed(1)],
    ["rf1", "range F1", (r) => r.range_f1.toFixed(2)],
  ];
  C.html("th", { text: "detector" }, header);
  for (const [, text] of columns) C.html("th", { text }, header);
  const body = C.html("tbody", {}, table);
  const addRows = (rows, kind) => {
    for (const [label, r] of Object.entries(rows || {})) {
      const tr = C.html("tr", { "data-row": label, class: label.endsWith("baseline") ? "baseline" : kind }, body);
      C.html("td", { text: kind === "rule" ? `${label} (incident rule)` : label }, tr);
      for (const [, , value] of columns) C.html("td", { text: value(r) }, tr);
    }
  };
  if (facts.truth) {
    addRows(data.scores.scores, "detector");
    addRows(data.scores.incident_rules, "rule");
    const begun = data.incidents.filter((i) => !notBegun(i)).length;
    const late = data.incidents.length - begun;
    C.html("p", { class: "muted", text: `${scored.length} scored incidents, ${begun - scored.length} silent` +
                                        (late ? `, ${late} not begun when the run stopped` : "") +
                                        ". Definitions: docs/scoring.md." }, scoreSection);
  } else {
    table.remove();
    C.html("p", { class: "muted", text: "Not scored: the trace has no ground truth (the run stopped before " +
                                        "writing it)." }, scoreSection);
  }

  // --- each detector's alerts against the impact windows -----------------------------------
  const stripSection = section("detectors", "Alerts against the impact windows");
  const strips = C.html("div", { class: "panel" }, stripSection);
  const stripWidth = Math.max(600, (strips.clientWidth || 1000) - 20);
  const x = C.linear(0, span, 150, stripWidth - 10);
  const stripRows = data.detectors.length ? data.detectors : [];
  const svg = C.el("svg", { class: "detector-strips", width: stripWidth, height: stripRows.length * 30 + 30 }, strips);
  stripRows.forEach((d, row) => {
    const y = row * 30 + 4;
    C.el("text", { x: 4, y: y + 16, text: d }, svg);
    const g = C.el("g", { class: "strip", "data-detector": d }, svg);
    for (const i of scored)
      C.titled(C.el("rect", { x: x(i.impact_start), y, width: Math.max(2, x(i.impact_end) - x(i.impact_start)),
                              height: 24, fill: "var(--window)", class: "impact-window" }, g),
               `incident ${i.id} ${i.name}`);
    const drawn = new Set();
    const A = data.alerts;
    for (let a = 0; a < A.t.length; ++a) {
      if (A.detector[a] !== row) continue;
      const px = Math.round(x(A.t[a]));
      const matched = A.incident[a] >= 0;
      if (drawn.has(`${px}${matched}`)) continue;
      drawn.add(`${px}${matched}`);
      C.titled(C.el("line", { x1: px, x2: px, y1: y + 2, y2: y + 22, class: matched ? "alert-tick matched" : "alert-tick false-alarm" }, g),
               `${A.target[a]} ${A.metric[a]} at ${C.clock(A.t[a], span)}` + (matched ? ` (incident ${A.incident[a]})` : " (false alarm)"));
    }
  });
  C.axisBottom(svg, x, stripRows.length * 30 + 6, C.timeTicks(0, span, 8), (t) => C.clock(t, span));
  const stripLegend = C.html("div", { class: "legend" }, stripSection);
  for (const [style, text] of [["background: var(--healthy)", "alert that matched an incident"],
                               ["background: var(--root)", "false alarm"],
                               ["background: var(--window)", "impact window"]]) {
    const item = C.html("span", {}, stripLegend);
    C.html("span", { class: "swatch", style }, item);
    item.append(text);
  }

  // --- the facts --------------------------------------------------------------------------
  const factSection = section("facts", "The run");
  const factTable = C.html("table", { class: "data facts" }, factSection);
  const factRows = [
    ["scenario", facts.scenario], ["seed", facts.seed], ["mode", facts.mode || "fluid"],
    ["dosim version (trace)", facts.trace_dosim_version || "not recorded (an older trace)"],
    ["dosim version (report)", facts.report_dosim_version],
    ["tick", C.duration(facts.tick_s)], ["record interval", C.duration(facts.record_interval_s)],
    ["simulated", C.duration(facts.simulated_s)], ["rows", facts.rows],
    ["complete", facts.complete ? "yes" : "no: the run was interrupted or stopped on an error"],
    ["wall time", facts.wall_s === null ? "not recorded (a trace holds no wall clock; `dosim run --report` records it)"
                                         : C.duration(facts.wall_s)],
    ["trace", facts.trace],
    ["reproduce", `dosim run ${facts.scenario_path || "SCENARIO.yaml"} --seed ${facts.seed}` +
      (facts.mode ? ` --mode ${facts.mode}` : "") + (facts.script ? ` --script ${facts.script}` : "") +
      (facts.scenario_path ? "" : " (SCENARIO.yaml: the scenario file below, saved)")],
  ];
  for (const [k, v] of factRows) {
    const tr = C.html("tr", {}, factTable);
    C.html("td", { text: k }, tr);
    C.html("td", { text: String(v), class: "fact-value" }, tr);
  }
  const yaml = C.html("details", {}, factSection);
  C.html("summary", { text: "the scenario file" }, yaml);
  C.html("pre", { text: facts.scenario_yaml, class: "scenario-yaml" }, yaml);
})();

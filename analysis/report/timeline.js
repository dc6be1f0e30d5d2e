// timeline.js: the run's story on the simulated time axis (the run report). Two lanes for
// the whole system (incidents the incident rules declared, by severity; notifications), then
// one lane per service that anything happened to: faults (the cause's span as a bar, the
// impact window shaded behind it, on the root cause's lane and, lighter, on the affected
// services' lanes), changes (diamonds), alerts (dots, one colour per detector). Zoom with
// the wheel or the buttons, pan by dragging, double-click to see the whole run again.
"use strict";

const DosimTimeline = (() => {
  const C = DosimCharts;
  const LANE = 20, LABEL = 170, TOP = 24, RIGHT = 16;
  const MAX_LANES = 80;

  // Which lanes to draw, in order: root causes and affected services first (by first impact),
  // then services with changes or alerts (most alerts first).
  function lanesOf(data) {
    const first = new Map();  // service -> when it first mattered
    const note = (s, t) => { if (s >= 0 && (!first.has(s) || t < first.get(s))) first.set(s, t); };
    for (const i of data.incidents) {
      for (const r of i.roots) note(r, i.start);
      for (const s of i.affected) note(s, i.impact_start ?? i.start);
    }
    const ordered = [...first.keys()].sort((a, b) => first.get(a) - first.get(b) || a - b);
    const seen = new Set(ordered);
    const alertCount = new Map();
    for (const s of data.alerts.service) if (s >= 0) alertCount.set(s, (alertCount.get(s) || 0) + 1);
    for (const c of data.changes) for (const s of c.services) if (!alertCount.has(s)) alertCount.set(s, 0);
    for (const r of data.remediation || []) if (!alertCount.has(r.service)) alertCount.set(r.service, 0);
    const rest = [...alertCount.keys()].filter((s) => !seen.has(s))
      .sort((a, b) => alertCount.get(b) - alertCount.get(a) || a - b);
    const all = ordered.concat(rest);
    return { lanes: all.slice(0, MAX_LANES), hidden: Math.max(0, all.length - MAX_LANES),
             untouched: data.services.length - all.length };
  }

  function draw(parent, data, opts = {}) {
    const span = Math.max(data.facts.simulated_s || 0, 1);
    const view = { t0: 0, t1: span };
    const { lanes, hidden, untouched } = lanesOf(data);
    // System lanes first: the incident rules, the notifications, and where a change targets
    // no service (a region's failover or drain, a traffic shift) a lane of its own.
    const routing = data.changes.some((c) => c.services.length === 0);
    const systemNames = ["incidents (rules)", "notifications"].concat(routing ? ["traffic and regions"] : []);
    const SYSTEM = systemNames.length;
    const laneOf = new Map(lanes.map((s, i) => [s, i + SYSTEM]));
    const controls = C.html("div", { class: "timeline-controls" }, parent);
    const zoomIn = C.html("button", { text: "+", title: "zoom in" }, controls);
    const zoomOut = C.html("button", { text: "−", title: "zoom out" }, controls);
    const reset = C.html("button", { text: "whole run", title: "zoom out to the whole run" }, controls);
    const label = C.html("span", { class: "muted" }, controls);
    const holder = C.html("div", { class: "timeline-holder" }, parent);
    const note = C.html("p", { class: "muted" }, parent);
    note.textContent = (hidden ? `${C.count(hidden, "more service")} with alerts or changes ${hidden === 1 ? "is" : "are"} not drawn. ` : "") +
      (untouched > 0 ? `${C.count(untouched, "service")} had nothing happen to ${untouched === 1 ? "it" : "them"}.` : "");
    const colorOf = (d) => C.palette[d % C.palette.length];
    let currentX = null;

    function render() {
      holder.textContent = "";
      const width = Math.max(600, holder.clientWidth || parent.clientWidth || 1000);
      const height = TOP + (lanes.length + SYSTEM) * LANE + 24;
      const svg = C.el("svg", { class: "timeline", width, height, viewBox: `0 0 ${width} ${height}`,
                                "data-t0": view.t0, "data-t1": view.t1, "data-left": LABEL,
                                "data-right": width - RIGHT }, holder);
      const x = C.linear(view.t0, view.t1, LABEL, width - RIGHT);
      const clip = C.el("clipPath", { id: "timeline-clip" }, C.el("defs", {}, svg));
      C.el("rect", { x: LABEL, y: 0, width: width - RIGHT - LABEL, height }, clip);
      const laneY = (lane) => TOP + lane * LANE;
      const names = systemNames.concat(lanes.map((s) => data.services[s].name));
      names.forEach((name, lane) => {
        C.el("rect", { x: 0, y: laneY(lane), width, height: LANE,
                       fill: lane % 2 ? "transparent" : "var(--panel)" }, svg);
        C.el("text", { x: 6, y: laneY(lane) + 14, text: name.length > 26 ? name.slice(0, 25) + "…" : name,
                       class: lane < SYSTEM ? "lane-label system" : "lane-label",
                       "data-lane": lane < SYSTEM ? name : data.services[lanes[lane - SYSTEM]].name }, svg);
      });
      const grid = C.el("g", { class: "grid" }, svg);
      const ticks = C.timeTicks(view.t0, view.t1, Math.max(3, Math.floor(width / 130)));
      for (const t of ticks) C.el("line", { x1: x(t), x2: x(t), y1: TOP, y2: height - 24 }, grid);
      C.axisBottom(svg, x, height - 24, ticks, (t) => C.clock(t, view.t1 - view.t0));
      const g = C.el("g", { "clip-path": "url(#timeline-clip)" }, svg);
      const bar = (lane, t0, t1, attrs, title) => {
        const a = x(Math.max(t0, view.t0 - 1)), b = x(Math.min(t1, view.t1 + 1));
        return C.titled(C.el("rect", Object.assign({ x: a, y: laneY(lane) + 3, width: Math.max(2, b - a),
                                                     height: LANE - 6, rx: 3 }, attrs), g), title);
      };
      for (const i of data.incidents) {
        const what = `incident ${i.id} ${i.name}: ${i.cause} at ${i.root_cause}\n` +
          `cause ${C.clock(i.start, span)} – ${C.clock(i.end, span)}` +
          (i.silent ? "\nsilent: nothing measurable changed" :
            `\nimpact ${C.clock(i.impact_start, span)} – ${C.clock(i.impact_end, span)}`);
        if (!i.silent) {
          for (const s of i.affected) {
            if (!laneOf.has(s)) continue;
            bar(laneOf.get(s), i.impact_start, i.impact_end,
                { class: i.roots.includes(s) ? "impact root" : "impact", "data-incident": i.id }, what);
          }
        }
        for (const r of i.roots) {  // a zone's or region's outage: each service placed there
          if (!laneOf.has(r)) continue;
          bar(laneOf.get(r), i.start, Math.min(i.end, span),
              { class: i.silent ? "fault silent" : "fault", "data-incident": i.id, "data-start": i.start,
                "data-end": Math.min(i.end, span) }, what);
        }
      }
      for (const d of data.detected) {
        const end = d.end === null ? span : d.end;
        bar(0, d.start, end, { class: `detected sev${d.severity}`, "data-severity": d.severity },
            `${d.rule}: Sev${d.severity} ${C.clock(d.start, span)} – ${d.end === null ? "end of run" : C.clock(d.end, span)}` +
            `\npeak temperature ${C.number(d.peak_temperature)}`);
      }
      // Points: one per lane, kind and pixel column at most (a week has many alerts).
      const drawn = new Set();
      const point = (lane, t, key, make) => {
        if (t < view.t0 || t > view.t1) return;
        const px = Math.round(x(t));
        const id = `${lane}|${key}|${px}`;
        if (drawn.has(id)) return;
        drawn.add(id);
        make(px, laneY(lane) + LANE / 2);
      };
      // A notification points down; one sent for resolved alerts alone (send_resolved) is
      // hollow and points up: the all-clear.
      for (const n of data.notifications)
        point(1, n.t, n.resolution ? "r" : "n", (px, py) => C.titled(C.el("path", {
          d: n.resolution ? `M${px - 4},${py + 4}L${px + 4},${py + 4}L${px},${py - 4}z`
            : `M${px - 4},${py - 4}L${px + 4},${py - 4}L${px},${py + 4}z`,
          class: n.resolution ? "notification resolution" : "notification" }, g),
        `${n.resolution ? "resolution notice" : "notification"} ${C.clock(n.t, span)} to ` +
          `${n.receiver || "receiver"}: ${n.alerts} alerts\n${n.group}`));
      for (const c of data.changes) {
        const targets = c.services.length === 0 ? [null] : c.services.filter((s) => laneOf.has(s));
        for (const s of targets)
          point(s === null ? 2 : laneOf.get(s), c.t, "c", (px, py) => C.titled(C.el("path", {
            d: `M${px},${py - 6}L${px + 5},${py}L${px},${py + 6}L${px - 5},${py}z`, class: "change",
            "data-kind": c.kind }, g),
          `${c.kind} ${c.target} ${c.from ? c.from + " → " : ""}${c.to || ""} at ${C.clock(c.t, span)}`));
      }
      for (const r of data.remediation || []) {
        if (!laneOf.has(r.service) || r.action === "approval") continue;
        point(laneOf.get(r.service), r.t, `r${r.action}`, (px, py) => C.titled(C.el("rect", {
          x: px - 4, y: py - 4, width: 8, height: 8, class: `remedy remedy-${r.action}`, "data-action": r.action }, g),
        `${r.playbook}: ${r.action} ${data.services[r.service].name} at ${C.clock(r.t, span)}: ${r.outcome}`));
      }
      const A = data.alerts;
      for (let a = 0; a < A.t.length; ++a) {
        const lane = laneOf.get(A.service[a]);
        if (lane === undefined) continue;
        point(lane, A.t[a], `a${A.detector[a]}`, (px, py) => C.titled(C.el("circle", {
          cx: px, cy: py + (A.detector[a] % 3 - 1) * 4, r: 3, class: "alert",
          fill: colorOf(A.detector[a]), "data-detector": data.detectors[A.detector[a]] ?? "" }, g),
        `${data.detectors[A.detector[a]] ?? "?"}: ${A.target[a]} ${A.metric[a]} ${A.severity[a]}` +
          ` at ${C.clock(A.t[a], span)}` + (A.incident[a] >= 0 ? ` (incident ${A.incident[a]})` : " (false alarm)")));
      }
      label.textContent = ` ${C.clock(view.t0, view.t1 - view.t0)} – ${C.clock(view.t1, view.t1 - view.t0)}`;
      currentX = x;
    }

    function zoom(factor, around) {
      const width = view.t1 - view.t0;
      const next = Math.min(span, Math.max(span / 5000, width * factor));
      const center = around ?? (view.t0 + view.t1) / 2;
      const share = (center - view.t0) / width;
      view.t0 = Math.max(0, center - share * next);
      view.t1 = Math.min(span, view.t0 + next);
      view.t0 = Math.max(0, view.t1 - next);
      render();
    }

    // Listeners on the holder, once: each render replaces the svg inside it.
    let drag = null;
    holder.addEventListener("wheel", (event) => {
      event.preventDefault();
      const rect = holder.querySelector("svg").getBoundingClientRect();
      zoom(event.deltaY < 0 ? 0.7 : 1 / 0.7, currentX.invert(event.clientX - rect.left));
    }, { passive: false });
    holder.addEventListener("mousedown", (event) => { drag = { x: event.clientX }; });
    window.addEventListener("mouseup", () => { drag = null; });
    holder.addEventListener("mousemove", (event) => {
      if (!drag || !(event.buttons & 1)) return;
      const dt = currentX.invert(drag.x) - currentX.invert(event.clientX);
      const width = view.t1 - view.t0;
      view.t0 = Math.min(Math.max(0, view.t0 + dt), span - width);
      view.t1 = view.t0 + width;
      drag.x = event.clientX;
      render();
    });
    holder.addEventListener("dblclick", () => { view.t0 = 0; view.t1 = span; render(); });

    zoomIn.addEventListener("click", () => zoom(0.5));
    zoomOut.addEventListener("click", () => zoom(2));
    reset.addEventListener("click", () => { view.t0 = 0; view.t1 = span; render(); });
    render();
    return {
      show(t0, t1) {  // zoom to [t0, t1]
        view.t0 = Math.max(0, t0);
        view.t1 = Math.min(span, Math.max(t1, view.t0 + span / 5000));
        render();
      },
      view,
    };
  }

  return { draw, lanesOf };
})();

// charts.js: the small SVG toolkit every dosim page shares (the run report, the bench
// report, the live page): elements, linear scales with readable ticks, axes, formats of
// simulated time, line charts with shaded windows and marks, a tooltip. No dependencies: a
// page must open without a network.
"use strict";

const DosimCharts = (() => {
  const NS = "http://www.w3.org/2000/svg";

  // An SVG element (or an HTML one with html = true) with attributes, appended to parent.
  function el(tag, attrs = {}, parent = null, html = false) {
    const node = html ? document.createElement(tag) : document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(tag, attrs = {}, parent = null) {
    return el(tag, attrs, parent, true);
  }

  // A <title> child: the browser shows it on hover.
  function titled(node, text) {
    el("title", { text }, node);
    return node;
  }

  // Ticks at 1, 2 or 5 times a power of ten, about `count` of them over [lo, hi].
  function niceTicks(lo, hi, count = 5) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
      ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
  }

  // Ticks for simulated seconds: whole seconds, minutes, hours or days.
  function timeTicks(lo, hi, count = 6) {
    const span = hi - lo;
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                   21600, 43200, 86400, 172800, 604800];
    const step = steps.find((s) => span / s <= count) || 604800 * Math.ceil(span / count / 604800);
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push(t);
    return ticks;
  }

  function linear(d0, d1, r0, r1) {
    const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    const scale = (v) => r0 + (v - d0) * k;
    scale.invert = (p) => (k === 0 ? d0 : d0 + (p - r0) / k);
    scale.domain = [d0, d1];
    scale.range = [r0, r1];
    return scale;
  }

  const pad2 = (n) => String(Math.floor(n)).padStart(2, "0");

  // Simulated time t (seconds from the start) as a clock, hours first: "d2 13:05" past the
  // first day (whole days elapsed: "d1" is the second day), "13:05", and seconds when the span shown is under ten minutes ("d1 10:30:15",
  // "00:05:30"; always with the hours, so that 02:00 is never two minutes on one page and
  // two hours on another).
  function clock(t, span = t) {
    const days = Math.floor(t / 86400);
    const rest = t - days * 86400;
    const day = days > 0 ? `d${days} ` : "";
    const hm = `${pad2(rest / 3600)}:${pad2((rest % 3600) / 60)}`;
    if (span >= 600) return day + hm;
    return `${day}${hm}:${pad2(rest % 60)}`;
  }

  // A duration in seconds for people: "850 ms", "42 s", "6 min 5 s", "2 h 10 min", "3 d 4 h".
  // Rounded to its last unit first, then split, so that 1 h 59 min 31 s is "2 h", not
  // "1 h 60 min", and 59.6 s "1 min".
  function duration(s) {
    if (s === null || s === undefined || !isFinite(s)) return "-";
    if (s < 0) return "-" + duration(-s);
    const ms = Math.round(s * 1000);
    if (ms < 1000) return `${ms} ms`;
    if (s < 59.5) return `${+s.toFixed(s < 9.95 ? 1 : 0)} s`;
    if (s < 3599.5) {
      const t = Math.round(s), m = Math.floor(t / 60), r = t % 60;
      return r ? `${m} min ${r} s` : `${m} min`;
    }
    if (s < 86370) {
      const t = Math.round(s / 60), h = Math.floor(t / 60), m = t % 60;
      return m ? `${h} h ${m} min` : `${h} h`;
    }
    const t = Math.round(s / 3600), d = Math.floor(t / 24), h = t % 24;
    return h ? `${d} d ${h} h` : `${d} d`;
  }

  // A number in at most 4 significant digits, with k/M for large ones.
  function number(v) {
    if (v === null || v === undefined || !isFinite(v)) return "-";
    const a = Math.abs(v);
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + "M";
    if (a >= 1e4) return (v / 1e3).toPrecision(3) + "k";
    if (a === 0) return "0";
    if (a < 1e-3) return v.toExponential(1);
    return String(+v.toPrecision(3));
  }

  // Every tick is marked; labels are thinned to every k-th where the widest would touch its
  // neighbour ("d12 03:07" is wider than the gap of five ticks on a small chart), and one at
  // an end of the axis is anchored inside it.
  const kLabelCharPx = 6.2;  // an axis label's character at the pages' 10-11 px font
  function axisBottom(g, scale, y, ticks, format) {
    const axis = el("g", { class: "axis" }, g);
    el("line", { x1: scale.range[0], x2: scale.range[1], y1: y, y2: y }, axis);
    const labels = ticks.map(format);
    const widest = Math.max(0, ...labels.map((l) => String(l).length)) * kLabelCharPx + 6;
    const gap = ticks.length > 1 ? Math.abs(scale(ticks[1]) - scale(ticks[0])) : Infinity;
    const every = Math.max(1, Math.ceil(widest / gap));
    const [left, right] = [Math.min(...scale.range), Math.max(...scale.range)];
    let drawnTo = -Infinity;  // where the last label drawn ends
    ticks.forEach((t, i) => {
      const x = scale(t);
      el("line", { x1: x, x2: x, y1: y, y2: y + 4 }, axis);
      if (i % every !== 0) return;
      const width = String(labels[i]).length * kLabelCharPx;
      const anchor = x - width / 2 < left - 4 ? "start" : x + width / 2 > right + 4 ? "end" : "middle";
      // An end's label anchored inside the axis reaches further in: it may meet its
      // neighbour ("00:0000:05"), then the neighbour goes.
      const from = anchor === "start" ? x : anchor === "end" ? x - width : x - width / 2;
      if (from < drawnTo + 4) return;
      drawnTo = from + width;
      el("text", { x, y: y + 15, "text-anchor": anchor, text: labels[i] }, axis);
    });
    return axis;
  }

  function axisLeft(g, scale, x, ticks, format) {
    const axis = el("g", { class: "axis" }, g);
    for (const t of ticks) {
      const y = scale(t);
      el("line", { x1: x - 4, x2: x, y1: y, y2: y }, axis);
      el("text", { x: x - 6, y: y + 4, "text-anchor": "end", text: format(t) }, axis);
    }
    return axis;
  }

  // A line chart of one or more series over time.
  //   spec.x: [t0, t1] seconds; spec.series: [{t: [...], v: [...], color, label}];
  //   spec.windows: [{t0, t1, title}] shaded; spec.marks: [{t, color, title}] vertical lines;
  //   spec.width, spec.height; spec.yMin (default 0 when every value is >= 0).
  function lineChart(parent, spec) {
    const width = spec.width || 320, height = spec.height || 130;
    const m = { left: 44, right: 8, top: 6, bottom: 20 };
    const svg = el("svg", { width, height, viewBox: `0 0 ${width} ${height}`, class: "line-chart" },
                   parent);
    const [t0, t1] = spec.x;
    let lo = Infinity, hi = -Infinity;
    for (const s of spec.series)
      for (let i = 0; i < s.v.length; ++i) {
        if (s.t[i] < t0 || s.t[i] > t1 || s.v[i] === null) continue;
        lo = Math.min(lo, s.v[i]);
        hi = Math.max(hi, s.v[i]);
      }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (lo >= 0 && spec.yMin === undefined) lo = 0;
    if (spec.yMin !== undefined) lo = Math.min(lo, spec.yMin);
    if (hi <= lo) hi = lo + (Math.abs(lo) || 1);
    const x = linear(t0, t1, m.left, width - m.right);
    const y = linear(lo, hi * 1.05, height - m.bottom, m.top);
    const grid = el("g", { class: "grid" }, svg);
    const yTicks = niceTicks(lo, hi, 3);
    for (const t of yTicks) el("line", { x1: m.left, x2: width - m.right, y1: y(t), y2: y(t) }, grid);
    for (const w of spec.windows || []) {
      const a = Math.max(t0, w.t0), b = Math.min(t1, w.t1);
      if (b < a) continue;
      titled(el("rect", { x: x(a), y: m.top, width: Math.max(1, x(b) - x(a)),
                          height: height - m.top - m.bottom, fill: "var(--window)",
                          class: "impact-window" }, svg), w.title || "impact window");
    }
    for (const s of spec.series) {
      let d = "", pen = false;
      for (let i = 0; i < s.v.length; ++i) {
        if (s.v[i] === null || s.t[i] < t0 || s.t[i] > t1) { pen = false; continue; }
        d += `${pen ? "L" : "M"}${x(s.t[i]).toFixed(1)},${y(s.v[i]).toFixed(1)}`;
        pen = true;
      }
      titled(el("path", { d, fill: "none", stroke: s.color || "var(--accent)", "stroke-width": 1.4,
                          class: "series" }, svg), s.label || "");
    }
    for (const mark of spec.marks || []) {
      if (mark.t < t0 || mark.t > t1) continue;
      titled(el("line", { x1: x(mark.t), x2: x(mark.t), y1: m.top, y2: height - m.bottom,
                          stroke: mark.color || "var(--fg)", "stroke-dasharray": "3,2",
                          class: "alert-mark" }, svg), mark.title || "");
    }
    axisLeft(svg, y, m.left, yTicks, number);
    axisBottom(svg, x, height - m.bottom, timeTicks(t0, t1, 4), (t) => clock(t, t1 - t0));
    return svg;
  }

  // One shared tooltip: show(text, event), hide().
  function tooltip() {
    let node = document.querySelector(".tooltip");
    if (!node) node = html("div", { class: "tooltip" }, document.body);
    return {
      show(text, event) {
        node.textContent = text;
        node.style.display = "block";
        node.style.left = `${event.clientX + 12}px`;
        node.style.top = `${event.clientY + 12}px`;
      },
      hide() { node.style.display = "none"; },
    };
  }

  // A palette for categories (detectors): distinct, readable on light and dark.
  const palette = ["#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#2ca02c",
                   "#7f7f7f", "#393b79", "#ad494a"];

  // The embedded data of a page: the JSON in <script type="application/json" id=...>.
  // "1 incident", "2 incidents".
  function count(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  function data(id) {
    return JSON.parse(document.getElementById(id).textContent);
  }

  return { el, html, titled, count, niceTicks, timeTicks, linear, clock, duration, number, axisBottom,
           axisLeft, lineChart, tooltip, palette, data };
})();

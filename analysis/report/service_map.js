// service_map.js: the dependency graph laid out for reading (the run report and the live
// page). Tiers are columns: a service's tier is the longest call path to it from an entry
// service (one nobody calls), so callers sit left of their callees. Places are bands: one
// per region / zone, in name order. Within a (band, tier) cell services are ordered by the
// mean row of their callers, to keep edges short. Above `collapseAbove` services, each cell
// becomes one node carrying its count and its worst state.
"use strict";

const DosimMap = (() => {
  const C = DosimCharts;
  const COLUMN = 190, ROW = 30, NODE_W = 150, NODE_H = 22, BAND_GAP = 18, PAD = 14;
  // Worst first: a collapsed node shows the worst state among its services.
  const SEVERITY = ["root", "failing", "affected", "degraded", "untouched", "healthy", "idle"];

  function placeOf(service) {
    const region = service.region || "";
    const zone = service.zone || "";
    if (!region && !zone) return "";
    if (zone && !zone.includes(",")) return region ? `${region} / ${zone}` : zone;
    return zone ? `${region || "spread"} / ${zone.split(",").length} zones` : region;
  }

  // Longest-path tiers from the entry services; a cycle is cut after n passes.
  function tiers(n, edges) {
    const tier = new Array(n).fill(0);
    for (let pass = 0; pass < n; ++pass) {
      let changed = false;
      for (const [caller, callee] of edges)
        if (caller !== callee && tier[callee] < tier[caller] + 1 && tier[caller] + 1 < n) {
          tier[callee] = tier[caller] + 1;
          changed = true;
        }
      if (!changed) break;
    }
    return tier;
  }

  // Positions of every service (or of every collapsed cell), bands and the drawn edges.
  function layout(services, edges, collapse) {
    const n = services.length;
    const tier = tiers(n, edges);
    const places = [...new Set(services.map(placeOf))].sort((a, b) =>
      a === "" ? 1 : b === "" ? -1 : a.localeCompare(b));
    const band = services.map((s) => places.indexOf(placeOf(s)));
    const callers = Array.from({ length: n }, () => []);
    for (const [caller, callee] of edges) callers[callee].push(caller);
    const maxTier = Math.max(0, ...tier);
    // cells[b][t]: the services of band b in tier t, ordered.
    const cells = places.map(() => Array.from({ length: maxTier + 1 }, () => []));
    for (let s = 0; s < n; ++s) cells[band[s]][tier[s]].push(s);
    const row = new Array(n).fill(0);
    for (let t = 0; t <= maxTier; ++t)
      for (const bandCells of cells) {
        const cell = bandCells[t];
        const key = (s) => (callers[s].length && t > 0
          ? callers[s].reduce((sum, c) => sum + row[c], 0) / callers[s].length : -1);
        cell.sort((a, b) => key(a) - key(b) || services[a].name.localeCompare(services[b].name));
        cell.forEach((s, i) => { row[s] = i; });
      }
    const nodes = [];   // {x, y, members: [service], label}
    const nodeOf = new Array(n);
    const bands = [];
    let top = PAD;
    places.forEach((place, b) => {
      const height = Math.max(1, ...cells[b].map((c) => (collapse ? (c.length ? 1 : 0) : c.length)));
      bands.push({ label: place, y: top, height: height * ROW + 12 });
      cells[b].forEach((cell, t) => {
        if (!cell.length) return;
        const groups = collapse ? [cell] : cell.map((s) => [s]);
        groups.forEach((members, i) => {
          const node = { x: PAD + 8 + t * COLUMN, y: top + 14 + i * ROW, members,
                         label: members.length === 1 ? services[members[0]].name
                                                     : `${members.length} services` };
          for (const s of members) nodeOf[s] = nodes.length;
          nodes.push(node);
        });
      });
      top += height * ROW + 12 + BAND_GAP;
    });
    // Edges between nodes; collapsed ones merged, each keeping the trace's edge indices.
    const links = new Map();
    edges.forEach(([caller, callee], e) => {
      const a = nodeOf[caller], b = nodeOf[callee];
      if (a === b) return;
      const key = `${a}>${b}`;
      if (!links.has(key)) links.set(key, { from: a, to: b, edges: [] });
      links.get(key).edges.push(e);
    });
    return { nodes, nodeOf, bands, links: [...links.values()],
             width: PAD * 2 + 16 + maxTier * COLUMN + NODE_W, height: top - BAND_GAP + PAD };
  }

  function worst(states) {
    let best = SEVERITY.length - 1;
    for (const s of states) best = Math.min(best, Math.max(0, SEVERITY.indexOf(s)));
    return SEVERITY[best];
  }

  // Draws the map into `parent`. opts: services, edges ([caller, callee] indices),
  // state(s) -> one of SEVERITY, collapseAbove (default 150), onSelect(service index),
  // highlight: Set of edge indices drawn as the propagation path. Returns {update(opts),
  // svg}: update recolours and re-highlights without moving anything.
  function draw(parent, opts) {
    const collapse = opts.services.length > (opts.collapseAbove ?? 150);
    const lay = layout(opts.services, opts.edges, collapse);
    const svg = C.el("svg", { class: "service-map", width: lay.width, height: lay.height,
                              viewBox: `0 0 ${lay.width} ${lay.height}`,
                              "data-collapsed": collapse ? "true" : "false" }, parent);
    const defs = C.el("defs", {}, svg);
    for (const [id, color] of [["arrow", "var(--muted)"], ["arrow-hot", "var(--root)"]]) {
      const marker = C.el("marker", { id: `map-${id}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
                                      markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" },
                          defs);
      C.el("path", { d: "M0,0L10,5L0,10z", fill: color }, marker);
    }
    for (const band of lay.bands) {
      C.el("rect", { x: 4, y: band.y, width: lay.width - 8, height: band.height, rx: 6,
                     class: "band", fill: "var(--panel)", stroke: "var(--line)" }, svg);
      if (band.label)
        C.el("text", { x: 12, y: band.y + 11, class: "band-label", fill: "var(--muted)",
                       text: band.label }, svg);
    }
    const edgeLayer = C.el("g", { class: "edges" }, svg);
    const linkPaths = lay.links.map((link) => {
      const a = lay.nodes[link.from], b = lay.nodes[link.to];
      let d;
      if (b.x > a.x) {
        const x0 = a.x + NODE_W, y0 = a.y + NODE_H / 2, x1 = b.x, y1 = b.y + NODE_H / 2;
        const mid = (x0 + x1) / 2;
        d = `M${x0},${y0}C${mid},${y0} ${mid},${y1} ${x1},${y1}`;
      } else {  // same tier or backwards (a cycle): loop around the right side
        const x0 = a.x + NODE_W, y0 = a.y + NODE_H / 2, x1 = b.x + NODE_W, y1 = b.y + NODE_H / 2;
        d = `M${x0},${y0}C${x0 + 40},${y0} ${x1 + 40},${y1} ${x1},${y1}`;
      }
      const path = C.el("path", { d, class: "edge", fill: "none",
                                  "data-edges": link.edges.join(",") }, edgeLayer);
      C.titled(path, link.edges.map((e) => `${opts.services[opts.edges[e][0]].name} → ` +
                                            `${opts.services[opts.edges[e][1]].name}`).join("\n"));
      return path;
    });
    const nodeLayer = C.el("g", { class: "nodes" }, svg);
    const nodeGroups = lay.nodes.map((node, i) => {
      const g = C.el("g", { class: "node", transform: `translate(${node.x},${node.y})`,
                            "data-node": i, tabindex: 0 }, nodeLayer);
      if (node.members.length === 1) g.setAttribute("data-service", opts.services[node.members[0]].name);
      else g.setAttribute("data-services", node.members.length);
      C.el("rect", { width: NODE_W, height: NODE_H, rx: 5 }, g);
      const label = node.label.length > 22 ? node.label.slice(0, 21) + "…" : node.label;
      C.el("text", { x: NODE_W / 2, y: 15, "text-anchor": "middle", text: label }, g);
      C.el("title", {}, g);
      g.addEventListener("click", () => opts.onSelect && opts.onSelect(node.members));
      return g;
    });

    function update(next) {
      Object.assign(opts, next);
      lay.nodes.forEach((node, i) => {
        const states = node.members.map((s) => opts.state(s));
        const state = worst(states);
        const g = nodeGroups[i];
        g.setAttribute("data-status", state);
        const counts = {};
        for (const s of states) counts[s] = (counts[s] || 0) + 1;
        const detail = node.members.length === 1
          ? `${node.label}: ${state}${opts.describe ? "\n" + opts.describe(node.members[0]) : ""}`
          : `${node.label}: ` + Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ");
        g.querySelector("title").textContent = detail;
      });
      const hot = opts.highlight || new Set();
      lay.links.forEach((link, i) => {
        const on = link.edges.some((e) => hot.has(e));
        linkPaths[i].setAttribute("class", on ? "edge propagation" : "edge");
        linkPaths[i].setAttribute("marker-end", on ? "url(#map-arrow-hot)" : "url(#map-arrow)");
      });
    }
    update({});
    return { svg, update, layout: lay };
  }

  return { draw, layout, placeOf, tiers, SEVERITY };
})();

// live.js: the live page of `dosim serve` (analysis/live_view.cc writes its data). Polls
// /api/state twice a second: recolours the service map by each service's health, redraws the
// selected service's sparklines, appends the story. Its controls post to /api/control (pause,
// resume, speed) and /api/inject (a fault of the catalogue, on the path Lua's sim.inject
// takes).
"use strict";

(() => {
  const C = DosimCharts;
  const data = C.data("dosim-data");
  const root = document.getElementById("live");
  root.textContent = "";
  document.getElementById("title").textContent = `${data.scenario} — dosim live`;
  const clock = document.getElementById("clock");
  const names = data.services.map((s) => s.name);
  let state = null, selected = 0, storySeen = 0;

  const layout = C.html("div", { class: "live-layout" }, root);
  const left = C.html("div", { class: "live-left" }, layout);
  const right = C.html("div", { class: "live-right" }, layout);

  // --- controls ---------------------------------------------------------------------------
  const controls = C.html("div", { class: "panel live-controls" }, left);
  const pause = C.html("button", { id: "pause", text: "pause" }, controls);
  C.html("label", { for: "speed", text: "speed" }, controls);
  const speed = C.html("select", { id: "speed" }, controls);
  for (const [value, text] of [[1, "1× (real time)"], [10, "10×"], [60, "1 min/s"], [600, "10 min/s"],
                               [3600, "1 h/s"], [0, "as fast as it goes"]])
    C.html("option", { value, text }, speed);
  const status = C.html("span", { id: "status", class: "muted" }, controls);
  pause.addEventListener("click", () =>
    post("/api/control", { action: state && state.paused ? "resume" : "pause" }));
  speed.addEventListener("change", () => post("/api/control", { action: "speed", speed: Number(speed.value) }));

  const inject = C.html("div", { class: "panel live-inject" }, left);
  C.html("b", { text: "inject a fault " }, inject);
  const kind = C.html("select", { id: "inject-kind" }, inject);
  data.catalogue.forEach((k, i) => C.html("option", { value: i, text: `${k.kind} (${k.target})`, title: k.does }, kind));
  C.html("span", { text: " on " }, inject);
  const target = C.html("select", { id: "inject-target" }, inject);
  C.html("span", { text: " for " }, inject);
  const duration = C.html("input", { id: "inject-duration", value: "10m", size: 5 }, inject);
  const parameters = C.html("span", { class: "inject-parameters" }, inject);
  const go = C.html("button", { id: "inject-button", text: "inject" }, inject);
  const injectResult = C.html("div", { id: "inject-result", class: "muted" }, inject);
  function fillTargets() {
    const entry = data.catalogue[Number(kind.value)];
    target.textContent = "";
    const options = entry.target === "service" ? names : entry.target === "zone" ? data.zones : data.regions;
    for (const name of options) C.html("option", { value: name, text: name }, target);
    if (entry.target === "service") target.value = names[selected];
    parameters.textContent = "";
    for (const [key, value] of Object.entries(entry.parameters)) {
      C.html("span", { text: ` ${key} ` }, parameters);
      C.html("input", { "data-key": key, value, size: 6 }, parameters);
    }
  }
  kind.addEventListener("change", fillTargets);
  fillTargets();
  go.addEventListener("click", async () => {
    const entry = data.catalogue[Number(kind.value)];
    const fault = { kind: entry.kind, target: { [entry.target]: target.value }, duration: duration.value };
    for (const input of parameters.querySelectorAll("input")) {
      const raw = input.value.trim();
      fault[input.dataset.key] = raw !== "" && !isNaN(Number(raw)) ? Number(raw) : raw;
    }
    const answer = await post("/api/inject", fault);
    injectResult.textContent = answer.ok ? `injected ${answer.name} (fault ${answer.index})` : answer.error;
    injectResult.className = answer.ok ? "muted" : "error";
  });

  // --- the map ------------------------------------------------------------------------------
  const mapPanel = C.html("div", { class: "panel scroll" }, left);
  const legend = C.html("div", { class: "legend" }, left);
  for (const [cls, text] of [["healthy", "healthy"], ["affected", "degraded (errors ≥ 1 % or p95 ≥ 1.5× its usual)"],
                             ["root", "failing (errors ≥ 5 % or no ready replica)"]]) {
    const item = C.html("span", {}, legend);
    C.html("span", { class: "swatch", style: `background: var(--${cls})` }, item);
    item.append(text);
  }
  const map = DosimMap.draw(mapPanel, {
    services: data.services, edges: data.edges,
    state: (s) => (state ? state.health[s] : "idle"),
    describe: (s) => (state ? `rps ${C.number(state.latest.rps[s])} · errors ${C.number(state.latest.error_ratio[s])}` +
                              ` · p95 ${C.duration(state.latest.latency_p95_s[s])}` : ""),
    onSelect: (members) => { selected = members[0]; fillTargets(); poll(); },
  });

  // --- the selected service and the story ----------------------------------------------------
  const detail = C.html("div", { class: "panel" }, right);
  const detailTitle = C.html("h2", { id: "selected-service" }, detail);
  const sparks = C.html("div", { class: "sparks" }, detail);
  const storyPanel = C.html("div", { class: "panel story-panel" }, right);
  C.html("h2", { text: "The story so far" }, storyPanel);
  const story = C.html("ol", { id: "story", reversed: "" }, storyPanel);

  async function post(path, body) {
    try {
      const response = await fetch(path, { method: "POST", body: JSON.stringify(body),
                                           headers: { "Content-Type": "application/json" } });
      const answer = await response.json();
      poll();
      return answer;
    } catch (error) {
      return { ok: false, error: `the server did not answer: ${error}` };
    }
  }

  let polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    try {
      const response = await fetch(`/api/state?since=${storySeen}&service=${selected}`);
      if (response.ok) show(await response.json());
      status.textContent = "";
    } catch (error) {
      status.textContent = "the server is gone (the run ended?)";
    } finally {
      polling = false;
    }
  }

  function show(next) {
    state = next;
    clock.textContent = `${C.clock(state.t, data.duration)} of ${C.duration(data.duration)} simulated` +
      (state.ended ? " · the run has ended" : state.paused ? " · paused" : "");
    pause.textContent = state.paused ? "resume" : "pause";
    pause.disabled = state.ended;
    go.disabled = state.ended;
    if (![...speed.options].some((o) => Number(o.value) === state.speed))
      C.html("option", { value: state.speed, text: `${state.speed}×` }, speed);
    if (document.activeElement !== speed) speed.value = String(state.speed);
    map.update({});
    for (const g of map.svg.querySelectorAll(".node.selected")) g.classList.remove("selected");
    const node = map.svg.querySelector(`.node[data-node="${map.layout.nodeOf[selected]}"]`);
    if (node) node.classList.add("selected");
    detailTitle.textContent = `${names[selected]}: ${state.health[selected]}`;
    sparks.textContent = "";
    const series = state.series;
    if (series && series.t.length > 1) {
      const x = [series.t[0], series.t[series.t.length - 1]];
      for (const [key, label] of [["rps", "requests/s"], ["error_ratio", "error ratio"], ["latency_p95_s", "p95 latency (s)"]]) {
        const box = C.html("div", { class: "chart", "data-metric": key }, sparks);
        C.html("h3", { text: `${label}: ${C.number(state.latest[key][selected])}` }, box);
        C.lineChart(box, { x, series: [{ t: series.t, v: series[key], label }], width: 360, height: 90 });
      }
    }
    for (const line of state.story) {
      const item = C.html("li", { class: `story-${line.kind}`, "data-kind": line.kind }, null);
      C.html("span", { class: "story-time", text: C.clock(line.t, data.duration) }, item);
      item.append(` ${line.text}`);
      story.insertBefore(item, story.firstChild);
    }
    storySeen = state.story_size;
  }

  poll();
  setInterval(poll, 500);
})();

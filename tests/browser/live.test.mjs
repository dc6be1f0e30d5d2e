// The live page of `dosim serve` as an instructor uses it in Chromium: the map of the
// system turns green as the run goes, a fault injected through the page's control turns its
// service red and enters the story, pause stops the simulated clock, the speed control
// changes the pace, and nothing goes wrong in the console. The server is the real one, on
// 127.0.0.1.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, openPage } from "./browser.mjs";
import { freePort, startServer } from "./support.mjs";

let browser, server, page, problems, port;

before(async () => {
  port = await freePort();
  server = await startServer(["serve", "scenarios/online-boutique.yaml", "--listen",
                              `127.0.0.1:${port}`, "--speed", "30"], port);
  browser = await launch();
  ({ page, problems } = await openPage(browser, `http://127.0.0.1:${port}/`));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const statusOf = (service) =>
  page.$eval(`.service-map .node[data-service="${service}"]`, (n) => n.dataset.status);
const simulatedSeconds = async () => (await (await fetch(`http://127.0.0.1:${port}/api/state`)).json()).t;

test("the map has a node per service, coloured by health as the run goes", async () => {
  const names = await page.$$eval(".service-map .node", (nodes) => nodes.map((n) => n.dataset.service));
  const state = await (await fetch(`http://127.0.0.1:${port}/api/state`)).json();
  assert.equal(names.length, state.health.length);
  await page.waitForFunction(() =>
    [...document.querySelectorAll(".service-map .node")].every((n) => n.dataset.status === "healthy"),
  null, { timeout: 20000 });
});

test("a fault injected through the page turns its service red and enters the story", async () => {
  const target = "cartservice";
  assert.equal(await statusOf(target), "healthy");
  await page.selectOption("#inject-kind", { label: "error (service)" });
  await page.selectOption("#inject-target", target);
  await page.fill(".inject-parameters input[data-key=percent]", "100");
  await page.fill("#inject-duration", "5m");
  await page.click("#inject-button");
  await page.waitForFunction((s) =>
    document.querySelector(`.service-map .node[data-service="${s}"]`).dataset.status === "failing",
  target, { timeout: 20000 });
  const fill = await page.$eval(`.service-map .node[data-service="${target}"] rect`, (r) => getComputedStyle(r).fill);
  assert.equal(fill, "rgb(214, 39, 40)");
  const result = await page.textContent("#inject-result");
  assert.match(result, /injected/);
  await page.waitForFunction(() =>
    [...document.querySelectorAll("#story li")].some((li) => /injected .*error on cartservice/.test(li.textContent)),
  null, { timeout: 10000 });
  // Its callers see the errors too: the cascade is on the map.
  await page.waitForFunction(() => document.querySelector('.service-map .node[data-service="frontend"]')
    .dataset.status !== "healthy", null, { timeout: 20000 });
});

test("a wrong fault is refused with the loader's message", async () => {
  await page.selectOption("#inject-kind", { label: "latency (service)" });
  await page.fill(".inject-parameters input[data-key=fixedDelay]", "-3s");
  await page.click("#inject-button");
  await page.waitForFunction(() => document.querySelector("#inject-result").className === "error");
  assert.match(await page.textContent("#inject-result"), /fixedDelay/);
  // The refusal is an HTTP 400, which Chromium logs; nothing else may be.
  const refused = problems.filter((p) => /status of 400/.test(p));
  assert.equal(refused.length, 1, problems.join("\n"));
  problems.splice(problems.indexOf(refused[0]), 1);
});

test("pause stops the simulated clock and resume starts it again", async () => {
  await page.click("#pause");
  await page.waitForFunction(() => document.querySelector("#pause").textContent === "resume");
  const paused = await simulatedSeconds();
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(await simulatedSeconds(), paused);
  await page.click("#pause");
  await page.waitForFunction(() => document.querySelector("#pause").textContent === "pause");
  await new Promise((r) => setTimeout(r, 800));
  assert.ok((await simulatedSeconds()) > paused);
});

test("the speed control changes the pace", async () => {
  await page.selectOption("#speed", "600");
  await page.waitForFunction(() =>
    [...document.querySelectorAll("#story li")].some((li) => /speed 600/.test(li.textContent)));
  const before = await simulatedSeconds();
  await new Promise((r) => setTimeout(r, 1000));
  const gained = (await simulatedSeconds()) - before;
  assert.ok(gained > 100, `${gained} simulated seconds in a wall second at 600x`);
  assert.deepEqual(problems, []);
});

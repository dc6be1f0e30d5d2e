-- scenario: scenarios/game-day.yaml
--
-- A game day on the game-day shop, in the Chaos Toolkit's shape. After ten quiet minutes
-- the experiment checks its steady-state hypothesis (the gateway answers within 200 ms at
-- p95 with under 1 % errors), then runs a sequence of faults with waits between them:
--   1. a 300 ms delay on checkout -> payments for 10 minutes (a slow payment provider);
--   2. half of catalog's replicas killed, back after 2 minutes;
--   3. a CPU stressor taking 60 % of every gateway replica for 10 minutes;
-- then checks the hypothesis again once the last fault has been over for five minutes. The
-- verdict (pass, fail or error, with the probe that failed) is printed at the end of the run
-- and stored in the trace under /experiments.
--
--   dosim run scenarios/game-day.yaml --script scripts/game-day.lua

local function steady_state()
  local p95 = sim.metric("gateway", "latency_p95_s")
  local errors = sim.metric("gateway", "error_ratio")
  if p95 > 0.200 then
    return false, string.format("gateway p95 %.0f ms > 200 ms", p95 * 1000)
  end
  if errors > 0.01 then
    return false, string.format("gateway errors %.1f %% > 1 %%", errors * 100)
  end
  return true
end

sim.after("10m", function()
  sim.experiment{
    title = "the shop rides out a slow payment provider, lost catalog pods and a hot gateway",
    hypothesis = steady_state,
    method = function()
      sim.log("game day: payments slow down (300 ms on checkout -> payments)")
      sim.inject{name = "payments-slow", kind = "latency",
                 target = {caller = "checkout", callee = "payments"},
                 fixedDelay = "300ms", duration = "10m"}
      sim.sleep("15m")
      sim.log("game day: half of catalog's replicas are killed")
      sim.inject{name = "catalog-pods", kind = "pod-kill", target = {service = "catalog"},
                 mode = "fixed-percent", value = 50, restartTime = "2m", duration = "2m"}
      sim.sleep("10m")
      sim.log("game day: a CPU stressor takes 60 % of the gateway")
      sim.inject{name = "gateway-cpu", kind = "cpu-stress", target = {service = "gateway"},
                 load = 60, duration = "10m"}
      sim.sleep("15m")
    end,
  }
end)

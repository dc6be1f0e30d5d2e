-- Lab 3 (instructor's solution): the game day, in the Chaos Toolkit's order.
--   dosim run ../../lab3/shop.yaml --script gameday.lua
-- Steady state: the gateway answers within 200 ms at p95 with under 1 % errors. After ten
-- quiet minutes the method applies both manifests and waits five minutes with the chaos on;
-- the hypothesis is checked again while it is on, then the rollbacks delete the chaos.

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

local chaos = {}

sim.after("10m", function()
  sim.experiment{
    title = "the shop rides out slow payments and lost catalog pods",
    hypothesis = steady_state,
    method = function()
      chaos[#chaos + 1] = sim.apply("slow-payments.yaml")
      chaos[#chaos + 1] = sim.apply("catalog-pods.yaml")
      sim.sleep("5m")
    end,
    rollbacks = function()
      for _, applied in ipairs(chaos) do applied:stop() end
    end,
  }
end)

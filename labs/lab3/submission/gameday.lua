-- Lab 3: your game day (labs/lab3/HANDOUT.md).
--   dosim run ../shop.yaml --script gameday.lua        (from this folder)
-- docs/lua-api.md has sim.experiment, sim.apply, sim.metric and sim.after.

local function steady_state()
  -- TODO: read the gateway's p95 latency and error ratio (sim.metric) and return true, or
  -- false and a message saying which part of the steady state does not hold.
  return true
end

sim.after("10m", function()
  sim.experiment{
    title = "the shop rides out slow payments and lost catalog pods",
    hypothesis = steady_state,
    method = function()
      -- TODO: apply your two manifests (sim.apply) and keep the chaos on for five minutes.
    end,
    rollbacks = function()
      -- TODO: delete whatever the method applied.
    end,
  }
end)

-- scenario: scenarios/game-day.yaml
--
-- Progressive delivery with automatic rollback. Twenty minutes in, checkout v2.0.0 goes out
-- as a canary (5 %, 25 %, 50 % of the traffic, 10 minutes each, then everything); the new
-- version has a defect (12 % errors and 250 ms more latency on the requests it serves).
-- The script listens to the run's alerts: the first alert about checkout (or about the
-- gateway, which calls it) while the rollout is in progress rolls the deployment back. The
-- experiment's hypothesis is that checkout's error ratio is back under 1 % afterwards.
--
--   dosim run scenarios/game-day.yaml --script scripts/canary-auto-rollback.lua

local rolled_back = false
local deployed_at = nil

sim.on("alert", function(alert)
  if rolled_back or deployed_at == nil then return end
  if alert.service ~= "checkout" and alert.service ~= "gateway" then return end
  rolled_back = sim.rollback("checkout")
  sim.log(string.format("canary: %s alert on %s (%s) after %.0f s of rollout: rolled back",
                        alert.severity, alert.service, alert.metric, alert.t - deployed_at))
end)

sim.after("20m", function()
  sim.experiment{
    title = "a defective canary of checkout is rolled back on the first alert",
    hypothesis = function()
      local errors = sim.metric("checkout", "error_ratio")
      return errors < 0.01, string.format("checkout errors %.1f %%", errors * 100)
    end,
    method = function()
      deployed_at = sim.now()
      sim.deploy{name = "checkout-v2.0.0", service = "checkout", version = "v2.0.0",
                 strategy = "canary",
                 steps = {{weight = 5, pause = "10m"}, {weight = 25, pause = "10m"},
                          {weight = 50, pause = "10m"}},
                 defect = {errorPercent = 12, latency = "250ms"}}
      -- Done when the rollback happened, or the rollout would have finished.
      sim.wait_until(function() return rolled_back or sim.now() > deployed_at + 40 * 60 end)
      if not rolled_back then error("no alert stopped the defective canary") end
      sim.sleep("5m")  -- let the rollback settle before the hypothesis is checked again
    end,
  }
end)

-- scenario: scenarios/regional-failover.yaml
--
-- A planned evacuation. eu-west will lose power at 30m (the scenario's eu-west-down, 20
-- minutes). Five minutes before, the script steers the EU users to us-east over 2 minutes
-- (`sim.steer`, a traffic shift), so that nobody is in eu-west when the power goes, and
-- brings them back over 10 minutes at 55m, once eu-west has been up for five minutes.
-- The experiment watches the gateways throughout: its hypothesis (both answer with under
-- 1 % errors) must hold before and after, and the method fails if the EU users' gateway
-- answers with errors at any moment of the outage. With the users gone, the outage
-- breaks nothing anyone feels: its ground truth reports it silent and no alert matches it.
-- The detectors' usual false alarms remain: mad raises 5 (latency, 2 as the EU users
-- return at 55m, 3 as us-east comes back from its drain at 1h40m), none of them notified.
--
--   dosim run scenarios/regional-failover.yaml --script scripts/evacuate-region.lua

local function gateways_healthy()
  for _, gateway in ipairs({"us-gateway", "eu-gateway"}) do
    local errors = sim.metric(gateway, "error_ratio")
    if errors > 0.01 then
      return false, string.format("%s errors %.1f %%", gateway, errors * 100)
    end
  end
  return true
end

sim.after("25m", function()
  sim.experiment{
    title = "evacuating eu-west before its power cut keeps every EU request answered",
    hypothesis = gateways_healthy,
    method = function()
      sim.log("evacuation: EU users move to us-east before the power cut at 30m")
      sim.steer{traffic = "eu-users", weights = {["us-east"] = 100}, shift = "2m"}
      -- Through the outage (30m..50m), the gateway serving the EU users must not fail.
      while sim.now() < 50 * 60 do
        local ok, probe = gateways_healthy()
        if not ok then error("during the outage: " .. probe) end
        sim.sleep("10s")
      end
      sim.sleep("5m")
      sim.log("evacuation: eu-west is back; EU users return over 10 minutes")
      sim.steer{traffic = "eu-users", weights = {["eu-west"] = 100}, shift = "10m"}
      sim.sleep("12m")
    end,
  }
end)

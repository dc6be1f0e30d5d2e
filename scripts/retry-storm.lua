-- scenario: scenarios/retry-storm.yaml
--
-- The retry storm of scenarios/retry-storm.yaml, watched and broken by a responder. The
-- scenario slows the database down from 40m to 55m; every tier retries, the database gets
-- about sixteen times its load and saturates, and the storm outlives its cause (a
-- metastable failure). The script logs the load amplification on api -> db every five
-- minutes, and when the delay is over but the database is still saturated, it does what an
-- on-call engineer would: it scales the database out (2 -> 16 replicas, enough for the
-- sixteenfold load) until the storm is gone, then back to 2. The experiment's steady state
-- is web's error ratio under 1 %: it holds before the slowdown (the experiment starts at
-- 35m) and, if the responder broke the storm, again at the end.
--
--   dosim run scenarios/retry-storm.yaml --script scripts/retry-storm.lua

local baseline = nil

sim.every("5m", function()
  local rps = sim.edge_metric("api", "db", "rps")
  baseline = baseline or rps
  sim.log(string.format("api -> db: %.0f attempts/s (x%.1f), db utilization %.0f %%, web errors %.1f %%",
                        rps, rps / baseline, 100 * sim.metric("db", "utilization"),
                        100 * sim.metric("web", "error_ratio")))
end)

sim.at(35 * 60, function()
  sim.experiment{
    title = "a responder that scales the database out breaks the metastable retry storm",
    hypothesis = function()
      local errors = sim.metric("web", "error_ratio")
      return errors < 0.01, string.format("web errors %.1f %%", 100 * errors)
    end,
    method = function()
      sim.wait_until(56 * 60)  -- the slowdown (40m..55m) is over
      if sim.metric("db", "utilization") < 0.9 then
        sim.log("retry storm: the database recovered by itself; nothing to do")
        return
      end
      sim.log("retry storm: the delay is over but db is still saturated: scaling db to 16")
      sim.scale{service = "db", replicas = 16}
      sim.wait_until(function() return sim.metric("db", "utilization") < 0.5 end)
      sim.log("retry storm: db is below 50 % again; back to 2 replicas in 10 minutes")
      sim.sleep("10m")
      sim.scale{service = "db", replicas = 2}
      sim.sleep("5m")
    end,
  }
end)

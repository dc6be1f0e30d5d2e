-- scenario: scenarios/online-boutique.yaml
--
-- The AIOps Lab 7's single then double delay. The scenario already injects the first one,
-- Istio's fault.delay {fixedDelay: 0.2s, percent: 100} on frontend -> cartservice from 15m
-- to 25m. This script waits for the lab's incident rule (lab7) to declare the incident (Sev2:
-- the cart pair is hot), then adds the second delay, the same fault on checkoutservice ->
-- paymentservice, for five minutes: the payment pair heats up too and the incident escalates
-- to Sev1, as in the lab. Every incident the rule opens, and every escalation, is logged with
-- its severity, temperature and the streams hot at that moment.
--
--   dosim run scenarios/online-boutique.yaml --script scripts/lab7-delays.lua

local opened = nil

sim.on("incident", function(incident)
  sim.log(string.format("lab7: Sev%d incident by %s (temperature %.0f)", incident.severity,
                        incident.rule, incident.temperature))
  opened = opened or incident
end)

sim.on("escalation", function(change)
  local hot = {}
  for stream, value in pairs(change.accumulators) do
    if value > 75 then hot[#hot + 1] = stream end
  end
  table.sort(hot)
  sim.log(string.format("lab7: %s escalated Sev%d -> Sev%d (temperature %.0f; hot: %s)",
                        change.rule, change.previous, change.severity, change.temperature,
                        table.concat(hot, ", ")))
end)

sim.spawn(function()
  sim.wait_until(15 * 60)
  sim.log("lab7: single delay on frontend -> cartservice (the scenario's cart-delay)")
  sim.wait_until(function() return opened ~= nil end)
  sim.log(string.format("lab7: incident declared %.0f s after the delay; adding the second delay",
                        opened.t - 15 * 60))
  sim.inject{name = "payment-delay", kind = "latency",
             target = {caller = "checkoutservice", callee = "paymentservice"},
             fixedDelay = "200ms", percent = 100, duration = "5m"}
  sim.sleep("5m")
  sim.log("lab7: double delay over")
end)

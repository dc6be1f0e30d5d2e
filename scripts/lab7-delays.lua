-- scenario: scenarios/online-boutique.yaml
--
-- The AIOps Lab 7's single then double delay. The scenario already injects the first one,
-- Istio's fault.delay {fixedDelay: 0.2s, percent: 100} on frontend -> shippingservice from
-- 15m to 25m. This script waits for the lab's incident rule (lab7) to declare the incident,
-- then adds the second delay, the same fault on checkoutservice -> paymentservice, for five
-- minutes, so the run shows the incident temperature rise from one hot pair to two. Every
-- incident the rule opens is logged with its severity and temperature when it opens.
--
-- With one delay the rule declares a Sev2 incident within seconds; with the second delay
-- every watched stream heats up and the incident escalates to Sev1, as in the lab (the run's
-- summary shows the incident's highest severity and peak temperature).
--
--   dosim run scenarios/online-boutique.yaml --script scripts/lab7-delays.lua

local opened = nil

sim.on("incident", function(incident)
  sim.log(string.format("lab7: Sev%d incident by %s (temperature %.0f)", incident.severity,
                        incident.rule, incident.temperature))
  opened = opened or incident
end)

sim.spawn(function()
  sim.wait_until(15 * 60)
  sim.log("lab7: single delay on frontend -> shippingservice (the scenario's shipping-delay)")
  sim.wait_until(function() return opened ~= nil end)
  sim.log(string.format("lab7: incident declared %.0f s after the delay; adding the second delay",
                        opened.t - 15 * 60))
  sim.inject{name = "payment-delay", kind = "latency",
             target = {caller = "checkoutservice", callee = "paymentservice"},
             fixedDelay = "200ms", percent = 100, duration = "5m"}
  sim.sleep("5m")
  sim.log("lab7: double delay over")
end)

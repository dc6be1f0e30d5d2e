-- A root-cause ranker written in Lua (docs/rca.md, "Your own ranker"): the changes made in
-- the lookback on an alerted service or a neighbour of one, newest first; then the alerted
-- services, the one whose first alert came earliest first (the anomaly started there), ties
-- by more alerts.
--
--   rca:
--     rankers: [change, pagerank, {name: first-alerted, lua: ../scripts/rankers/first_alerted.lua}]

function rank(case)
  local first, count = {}, {}           -- per service: its first alert, its alert count
  for _, alert in ipairs(case.alerts) do  -- in time order, within the lookback
    local s = alert.service
    if s then
      first[s] = first[s] or alert.time
      count[s] = (count[s] or 0) + 1
    end
  end

  local near = {}                       -- the alerted services and their neighbours
  for s in pairs(first) do near[s] = true end
  for _, edge in ipairs(case.edges) do
    if first[edge.caller] then near[edge.callee] = true end
    if first[edge.callee] then near[edge.caller] = true end
  end

  local changes = {}
  for _, change in ipairs(case.changes) do  -- those made by case.time only
    local last = change.times[#change.times]
    local touched = false
    for _, s in ipairs(change.services) do touched = touched or near[s] == true end
    if touched and last > case.time - case.lookback then
      changes[#changes + 1] = {id = "change:" .. change.name, last = last}
    end
  end
  table.sort(changes, function(a, b)
    if a.last ~= b.last then return a.last > b.last end
    return a.id < b.id
  end)

  local services = {}
  for _, s in ipairs(case.services) do
    if first[s] then services[#services + 1] = s end
  end
  table.sort(services, function(a, b)
    if first[a] ~= first[b] then return first[a] < first[b] end
    if count[a] ~= count[b] then return count[a] > count[b] end
    return a < b
  end)

  local ranking = {}
  for _, c in ipairs(changes) do ranking[#ranking + 1] = c.id end
  for _, s in ipairs(services) do ranking[#ranking + 1] = "service:" .. s end
  return ranking
end

-- Makes runs leasable and tells the waiting runners: ZADD, then PUBLISH the earliest score on the
-- wake channel, in one round trip (a runner woken before the ZADD would find nothing).
-- KEYS[1] the run queue zset
-- ARGV[1] the wake channel, ARGV[2] 'NX' (only runs not in the queue) or '' (add or rescore),
-- ARGV[3..] score, run id pairs
-- Returns how many runs were added or rescored.
local changed = 0
local earliest = nil
if ARGV[2] == 'NX' then
  -- Repair: each run on its own, so the wake-up names the earliest run actually added.
  for i = 3, #ARGV, 2 do
    local score = tonumber(ARGV[i])
    if redis.call('ZADD', KEYS[1], 'NX', score, ARGV[i + 1]) > 0 then
      changed = changed + 1
      if earliest == nil or score < earliest then earliest = score end
    end
  end
else
  -- Every run counts, an unchanged score too ("look again": a re-enqueue after a claim that
  -- failed). One ZADD per chunk of pairs (the chunk keeps unpack within Lua's stack), not per
  -- run: a trigger group or a fire enqueues dozens at once.
  local chunk = 500
  for first = 3, #ARGV, 2 * chunk do
    local last = math.min(first + 2 * chunk - 1, #ARGV)
    redis.call('ZADD', KEYS[1], unpack(ARGV, first, last))
    for i = first, last, 2 do
      local score = tonumber(ARGV[i])
      if earliest == nil or score < earliest then earliest = score end
    end
    changed = changed + (last - first + 1) / 2
  end
end
if earliest ~= nil then redis.call('PUBLISH', ARGV[1], string.format('%d', earliest)) end
return changed

-- Makes runs leasable and tells the waiting runners: ZADD, then PUBLISH the earliest score on the
-- wake channel, in one round trip (a runner woken before the ZADD would find nothing).
-- KEYS[1] the run queue zset
-- ARGV[1] the wake channel, ARGV[2] 'NX' (only runs not in the queue) or '' (add or rescore),
-- ARGV[3..] score, run id pairs
-- Returns how many runs were added or rescored.
local changed = 0
local earliest = nil
for i = 3, #ARGV, 2 do
  local score = tonumber(ARGV[i])
  local n
  if ARGV[2] == 'NX' then
    n = redis.call('ZADD', KEYS[1], 'NX', score, ARGV[i + 1])
  else
    n = redis.call('ZADD', KEYS[1], 'CH', score, ARGV[i + 1])
    -- An unchanged score still means "look again" (a re-enqueue after a claim that failed).
    n = 1
  end
  if n > 0 then
    changed = changed + n
    if earliest == nil or score < earliest then earliest = score end
  end
end
if earliest ~= nil then redis.call('PUBLISH', ARGV[1], string.format('%d', earliest)) end
return changed

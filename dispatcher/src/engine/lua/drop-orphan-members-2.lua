-- Removes due members that have no entry token (an entry is always written as token + member).
-- KEYS[1] scheduleDue zset, KEYS[2] scheduleEntry hash
-- ARGV the member ids to check
-- Returns how many were removed.
local removed = 0
for _, id in ipairs(ARGV) do
  if redis.call('HEXISTS', KEYS[2], id) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], id)
  end
end
return removed

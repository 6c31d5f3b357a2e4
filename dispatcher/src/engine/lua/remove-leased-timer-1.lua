-- Removes a timer handled under a lease, unless it was put again (another score) meanwhile.
-- KEYS[1] the timers zset
-- ARGV[1] the score the member must still have (the lease deadline), ARGV[2] the member
-- Returns 1 when removed, 0 otherwise.
local score = redis.call('ZSCORE', KEYS[1], ARGV[2])
if score and tonumber(score) == tonumber(ARGV[1]) then
  return redis.call('ZREM', KEYS[1], ARGV[2])
end
return 0

-- Leases due members of a sorted set scored by due time (the timers set; the run queue uses
-- lease-runs-1.lua, which also returns the next due time).
-- KEYS[1] the zset
-- ARGV[1] now (epoch ms), ARGV[2] lease length (ms), ARGV[3] most members to lease
-- Returns the members leased: their score becomes the lease deadline (now + lease), so the
-- members of a holder that dies come due again by themselves.
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', deadline, member)
end
return due

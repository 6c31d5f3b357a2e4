-- Leases due runs of the run queue, and says when the next one comes due, so a runner can sleep
-- until then (or until a wake-up) instead of polling.
-- KEYS[1] the run queue zset
-- ARGV[1] now (epoch ms), ARGV[2] lease length (ms), ARGV[3] most runs to lease
-- Returns { run ids leased, the earliest remaining score (epoch ms) or false when empty }. A
-- leased run's score becomes its lease deadline (now + lease), so the runs of a runner that dies
-- come due again by themselves.
local now = tonumber(ARGV[1])
local due = {}
if tonumber(ARGV[3]) > 0 then
  due = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
  local deadline = now + tonumber(ARGV[2])
  for _, member in ipairs(due) do
    redis.call('ZADD', KEYS[1], 'XX', deadline, member)
  end
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local next = false
if head[2] then next = head[2] end
return { due, next }

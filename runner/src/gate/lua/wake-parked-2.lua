-- Wakes parked runs of a gate, oldest first: each is moved to the front of the run queue. A parked
-- run no longer in the run queue (canceled, expired) is dropped and does not use up a wake-up.
-- KEYS[1] the run queue zset, KEYS[2] the gate's parked zset
-- ARGV[1] now (epoch ms), ARGV[2] how many to wake
-- Returns the run ids woken.
local woken = {}
while #woken < tonumber(ARGV[2]) do
  local top = redis.call('ZPOPMIN', KEYS[2])
  if #top == 0 then break end
  if redis.call('ZSCORE', KEYS[1], top[1]) then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]), top[1])
    woken[#woken + 1] = top[1]
  end
end
return woken

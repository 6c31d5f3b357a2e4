-- Wakes parked runs of a gate, oldest first: each is moved to the front of the run queue. A parked
-- run no longer in the run queue (canceled, expired) is dropped and does not use up a wake-up.
-- Every runner waiting on the queue is told (the wake channel), not only the one that freed the slot.
-- KEYS[1] the run queue zset, KEYS[2] the gate's parked zset
-- ARGV[1] now (epoch ms), ARGV[2] how many to wake, ARGV[3] the run queue's wake channel
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
if #woken > 0 then redis.call('PUBLISH', ARGV[3], ARGV[1]) end
return woken

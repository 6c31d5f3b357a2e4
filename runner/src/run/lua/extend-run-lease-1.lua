-- Heartbeat (or claim) of leased runs: pushes their lease deadline out, only for runs still in
-- the queue.
-- KEYS[1] the run queue zset
-- ARGV[1] new deadline (epoch ms), ARGV[2..] run ids
-- Returns how many were extended (the others are no longer in the queue).
local extended = 0
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]), ARGV[i])
    extended = extended + 1
  end
end
return extended

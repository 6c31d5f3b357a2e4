-- Heartbeat of a leased run: pushes its lease deadline out, only while the run is in the queue.
-- KEYS[1] the run queue zset
-- ARGV[1] new deadline (epoch ms), ARGV[2] run id
-- Returns 1 when extended, 0 when the run is no longer in the queue.
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[1]), ARGV[2])
  return 1
end
return 0

-- Parks a run behind a full concurrency gate: remembered in the gate's parked set (oldest first)
-- and kept in the run queue at a later recheck time, so a lost wake-up costs a delay only.
-- KEYS[1] the run queue zset, KEYS[2] the gate's parked zset
-- ARGV[1] run id, ARGV[2] order (the run's creation, epoch ms), ARGV[3] recheck time (epoch ms)
-- Returns 1.
redis.call('ZADD', KEYS[2], tonumber(ARGV[2]), ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', tonumber(ARGV[3]), ARGV[1])
return 1

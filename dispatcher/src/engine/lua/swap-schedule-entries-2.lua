-- Compare-and-set of schedule entries.
-- KEYS[1] scheduleDue zset, KEYS[2] scheduleEntry hash
-- ARGV groups of 4: id, expected token ('' = no entry), new token ('' = remove), new score
-- Applies each change only if the entry's token is the expected one. Returns one 1 (applied) or
-- 0 (the token differed: someone else changed the entry) per group.
local out = {}
for i = 1, #ARGV, 4 do
  local id = ARGV[i]
  local current = redis.call('HGET', KEYS[2], id) or ''
  if current == ARGV[i + 1] then
    if ARGV[i + 2] == '' then
      redis.call('HDEL', KEYS[2], id)
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('HSET', KEYS[2], id, ARGV[i + 2])
      redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 3]), id)
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out

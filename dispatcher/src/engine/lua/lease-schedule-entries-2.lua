-- Leases due schedule entries.
-- KEYS[1] scheduleDue zset, KEYS[2] scheduleEntry hash
-- ARGV[1] now (epoch ms), ARGV[2] lease length (ms), ARGV[3] most entries to lease
-- Returns a flat list id1, token1, id2, token2, … of the entries leased (their score becomes the
-- lease deadline); a due member without a token (never written by these scripts) is dropped.
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local deadline = tonumber(ARGV[1]) + tonumber(ARGV[2])
local out = {}
for _, id in ipairs(due) do
  local token = redis.call('HGET', KEYS[2], id)
  if token then
    redis.call('ZADD', KEYS[1], 'XX', deadline, id)
    out[#out + 1] = id
    out[#out + 1] = token
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out

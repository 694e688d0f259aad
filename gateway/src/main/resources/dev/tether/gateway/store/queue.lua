-- The session's queue of client messages waiting for the worker: a sorted set, in arrival order
-- (its score is a counter kept in the directory), each member a message as the client sent it.
-- KEYS[1] directory, KEYS[2] queue. ARGV (after the fence's two): 'add' message | 'remove' message | 'clear'.
-- Adding or removing twice is harmless (a write retried after a lost reply).
local op = ARGV[3]
if op == 'add' then
  if not redis.call('ZSCORE', KEYS[2], ARGV[4]) then
    local order = redis.call('HINCRBY', KEYS[1], 'queue_added', 1)
    redis.call('ZADD', KEYS[2], order, ARGV[4])
  end
  local expires_at = redis.call('HGET', KEYS[1], 'expires_at')
  if expires_at then
    redis.call('PEXPIREAT', KEYS[2], expires_at)
  end
elseif op == 'remove' then
  redis.call('ZREM', KEYS[2], ARGV[4])
else
  redis.call('DEL', KEYS[2])
end
return 1

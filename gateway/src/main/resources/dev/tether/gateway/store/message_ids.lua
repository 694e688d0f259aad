-- Remembers client message ids (their digests), newest last, keeping the newest max_ids.
-- KEYS[1] directory, KEYS[2] id set (sorted by arrival). ARGV (after the fence's two): max_ids, digest...
local added = tonumber(redis.call('HGET', KEYS[1], 'ids_added'))
for i = 4, #ARGV do
  added = added + 1
  redis.call('ZADD', KEYS[2], added, ARGV[i])
end
redis.call('HSET', KEYS[1], 'ids_added', string.format('%d', added))
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if over > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
end
local expires_at = redis.call('HGET', KEYS[1], 'expires_at')
if expires_at then
  redis.call('PEXPIREAT', KEYS[2], expires_at)
end
return 1

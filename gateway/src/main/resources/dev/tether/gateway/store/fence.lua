-- Included at the top of every write by a session's owner (RedisSessionStore prepends it).
-- KEYS[1] is the session's directory hash; ARGV[1] the owner's lease epoch, ARGV[2] its node id.
-- A node whose claim was taken (a higher epoch, or another node) can no longer write: the script
-- fails with STALE, and nothing of the write is applied. A write that passes records when its owner
-- was last seen (seen_at, epoch ms by the store's clock): a session whose node died is known to be
-- abandoned once its reconnect window has passed since then.
local fenced = redis.call('HMGET', KEYS[1], 'epoch', 'node')
if not fenced[1] then
  return redis.error_reply('NOSESSION the session is not in the store')
end
if fenced[1] ~= ARGV[1] or fenced[2] ~= ARGV[2] then
  return redis.error_reply('STALE ' .. fenced[1] .. ' ' .. (fenced[2] or ''))
end
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], 'seen_at', string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))

-- Counts a new session against its owner's max_sessions_per_user, across every node.
-- KEYS[1] the user's set of sessions (sorted by creation). ARGV: max, session id, created_at (ms),
-- then ids of sessions known to have ended (removed first).
-- Returns 1 when admitted, 0 at the limit.
for i = 4, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
return 1

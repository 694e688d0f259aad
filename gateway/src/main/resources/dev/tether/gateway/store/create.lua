-- A new session's directory. KEYS[1] directory.
-- ARGV: format, subject, node, created_at (ms), token_expires_at (s), expires_at (ms: the latest a
-- session can live, max_duration and its grace plus a reconnect window; every key of the session
-- expires then at the latest, so a session nobody ends, its node dead, does not stay for ever).
-- Returns 1, or 0 when the id is taken (the caller draws another).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'format', ARGV[1], 'subject', ARGV[2], 'node', ARGV[3], 'epoch', '1',
  'state', 'preparing', 'newest_seq', '0', 'reserved_seq', '0', 'log_bytes', '0', 'ids_added', '0',
  'created_at', ARGV[4], 'seen_at', ARGV[4], 'token_expires_at', ARGV[5], 'reconnect_deadline', '0',
  'expires_at', ARGV[6])
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
return 1

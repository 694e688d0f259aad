-- The session ended: its directory becomes a tombstone (state ended, the reason) that expires after
-- the tombstone TTL; its log, ids and checkpoint are deleted.
-- KEYS[1] directory, KEYS[2] log, KEYS[3] ids, KEYS[4] queue. ARGV (after the fence's two): reason,
-- tombstone ttl (ms).
redis.call('HSET', KEYS[1], 'state', 'ended', 'end_reason', ARGV[3], 'node', '')
redis.call('HDEL', KEYS[1], 'checkpoint', 'turn')
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1

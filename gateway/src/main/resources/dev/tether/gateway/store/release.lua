-- The owner lets the session go (a hand-off, or a drain): no node owns it until one claims it.
-- KEYS[1] directory. ARGV (after the fence's two): reconnect_deadline (ms, 0 when a claimer is waiting).
redis.call('HSET', KEYS[1], 'node', '', 'reconnect_deadline', ARGV[3])
return 1

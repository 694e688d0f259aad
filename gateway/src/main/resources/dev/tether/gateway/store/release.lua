-- The owner lets the session go (a hand-off, or a drain): no node owns it until one claims it.
-- Everything it sent was written before this (its journal writes in order), so no seq beyond the
-- newest stored one was sent: the reservation of batched writes comes down to it.
-- KEYS[1] directory. ARGV (after the fence's two): reconnect_deadline (ms, 0 when a claimer is waiting).
redis.call('HSET', KEYS[1], 'node', '', 'reconnect_deadline', ARGV[3],
  'reserved_seq', redis.call('HGET', KEYS[1], 'newest_seq'))
return 1

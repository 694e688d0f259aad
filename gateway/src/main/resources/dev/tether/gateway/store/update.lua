-- Sets fields of the directory (state, token expiry, reconnect deadline, reserved seq, checkpoint).
-- KEYS[1] directory. ARGV (after the fence's two): field, value, field, value...
-- A reserved_seq lower than the stored one is ignored: it only grows.
for i = 3, #ARGV, 2 do
  if ARGV[i] == 'reserved_seq' then
    local stored = tonumber(redis.call('HGET', KEYS[1], 'reserved_seq'))
    if tonumber(ARGV[i + 1]) > stored then
      redis.call('HSET', KEYS[1], 'reserved_seq', ARGV[i + 1])
    end
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1

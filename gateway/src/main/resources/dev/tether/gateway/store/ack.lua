-- Drops the log's frames up to and including a seq the client acknowledged.
-- KEYS[1] directory, KEYS[2] log stream. ARGV (after the fence's two): seq.
-- Returns the number of frames dropped.
local dropped = redis.call('XRANGE', KEYS[2], '-', ARGV[3] .. '-0')
local bytes = 0
for _, entry in ipairs(dropped) do
  bytes = bytes + #entry[2][2]
  redis.call('XDEL', KEYS[2], entry[1])
end
if bytes > 0 then
  redis.call('HINCRBY', KEYS[1], 'log_bytes', -bytes)
end
return #dropped

-- Appends history frames with consecutive seqs and trims the log to its bounds, oldest first: the
-- same rule as the in-memory replay buffer (a frame over max_bytes on its own is not kept).
-- KEYS[1] directory, KEYS[2] log stream. ARGV (after the fence's two): max_messages, max_bytes,
-- after_gap ("1" when the frames before first_seq were never written: the owner dropped them while
-- the store was away, as its replay bounds would have evicted them; the log then starts again at
-- first_seq, so a resume below it is told replay_gap), first_seq, frame...
-- Each frame is a stream entry whose id is "<seq>-0" and whose one field "f" is the frame.
-- Returns the newest seq; fails with SEQ <newest> when first_seq is beyond the seq after it. Frames
-- already stored (a write retried after a lost reply) are passed over, so a retry is harmless.
local newest = tonumber(redis.call('HGET', KEYS[1], 'newest_seq'))
local first = tonumber(ARGV[6])
if first > newest + 1 then
  if ARGV[5] ~= '1' then
    return redis.error_reply('SEQ ' .. newest)
  end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'log_bytes', '0')
end
local bytes = 0
local last = newest
for i = 7, #ARGV do
  local seq = first + i - 7
  if seq > newest then
    last = seq
    redis.call('XADD', KEYS[2], string.format('%d-0', seq), 'f', ARGV[i])
    bytes = bytes + #ARGV[i]
  end
end
local total = tonumber(redis.call('HINCRBY', KEYS[1], 'log_bytes', bytes))
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved_seq'))
redis.call('HSET', KEYS[1], 'newest_seq', string.format('%d', last))
if last > reserved then
  redis.call('HSET', KEYS[1], 'reserved_seq', string.format('%d', last))
end
local max_messages = tonumber(ARGV[3])
local max_bytes = tonumber(ARGV[4])
local length = redis.call('XLEN', KEYS[2])
local evicted = 0
while length > 0 and (length > max_messages or total > max_bytes) do
  local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[2], oldest[1])
  total = total - #oldest[2][2]
  length = length - 1
  evicted = evicted + 1
end
if evicted > 0 then
  redis.call('HSET', KEYS[1], 'log_bytes', string.format('%d', total))
end
local expires_at = redis.call('HGET', KEYS[1], 'expires_at')
if expires_at then
  redis.call('PEXPIREAT', KEYS[2], expires_at)
end
return last

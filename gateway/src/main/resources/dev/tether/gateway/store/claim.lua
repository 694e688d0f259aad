-- Takes a session over: succeeds only if it is still where the claimer saw it (expected node and
-- epoch), so of any number of simultaneous claims exactly one wins; the epoch grows by one, which
-- fences the previous owner's writes.
-- KEYS[1] directory. ARGV: node, expected_node, expected_epoch, readable formats (comma-separated).
-- Returns {'claimed', epoch}, {'not_found'}, {'incompatible', format}, {'ended', reason} or
-- {'lost', node, epoch} (someone else claimed it first).
local d = redis.call('HMGET', KEYS[1], 'format', 'node', 'epoch', 'state', 'end_reason')
if not d[1] then
  return {'not_found'}
end
if not string.find(',' .. ARGV[4] .. ',', ',' .. d[1] .. ',', 1, true) then
  return {'incompatible', d[1]}
end
if d[4] == 'ended' then
  return {'ended', d[5] or ''}
end
if d[2] ~= ARGV[2] or d[3] ~= ARGV[3] then
  return {'lost', d[2] or '', d[3] or ''}
end
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], 'node', ARGV[1],
  'seen_at', string.format('%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))
return {'claimed', string.format('%d', epoch)}

-- Makes a sale visible with its full stock in one step, only if it is not there yet (a live sale's counters are
-- never overwritten).
-- KEYS[1] sale hash, KEYS[2] order stream. ARGV[1] consumer group, ARGV[2] itemName, ARGV[3] stock,
-- ARGV[4] startsAt, ARGV[5] endsAt (epoch ms), ARGV[6] priceCents or '', ARGV[7] generation, ARGV[8] the sale's
-- number of buckets, ARGV[9] its total stock (ARGV[3] is this bucket's share).
-- Replies 1 when loaded, 0 when the sale already existed.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local group = redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
if type(group) == 'table' and group.err and not string.find(group.err, 'BUSYGROUP') then
  return redis.error_reply(group.err)
end
redis.call('HSET', KEYS[1], 'itemName', ARGV[2], 'stock', ARGV[3], 'sold', 0, 'startsAt', ARGV[4], 'endsAt', ARGV[5],
  'generation', ARGV[7])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'priceCents', ARGV[6]) end
if ARGV[8] ~= '1' then redis.call('HSET', KEYS[1], 'buckets', ARGV[8], 'totalStock', ARGV[9]) end
return 1

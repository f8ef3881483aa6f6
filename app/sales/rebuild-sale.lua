-- Replaces one bucket of a sale's Redis state with the one rebuilt from MySQL, in one step, if the caller still holds
-- the bucket's rebuild lock (a rebuilder that stalled past the lock's expiry must not overwrite a newer rebuild).
-- KEYS[1] bucket hash, KEYS[2] buyers hash, KEYS[3] staged buyers hash (userId -> orderId of every order in MySQL whose
-- buyer this bucket serves; absent when there is none), KEYS[4] order stream, KEYS[5] rebuild lock, KEYS[6] moves
-- hash, KEYS[7] moved-in set. ARGV[1] lock token, ARGV[2] consumer group, ARGV[3] itemName, ARGV[4] the unsold units
-- this bucket gets, ARGV[5] startsAt, ARGV[6] endsAt (epoch ms), ARGV[7] priceCents or '', ARGV[8] generation,
-- ARGV[9] the sale's number of buckets, ARGV[10] its total stock.
-- Replies the units sold (one per staged buyer), or an error when the lock is no longer this caller's.
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return redis.error_reply('the rebuild lock is held by another rebuilder') end
-- Moves between buckets of the old generation are void: every unsold unit is shared out again below.
redis.call('DEL', KEYS[1], KEYS[2], KEYS[4], KEYS[6], KEYS[7])
if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[2]) end
-- The old stream's entries are in MySQL now (or were refused there): the new generation starts with an empty one.
redis.call('XGROUP', 'CREATE', KEYS[4], ARGV[2], '0', 'MKSTREAM')
local sold = redis.call('HLEN', KEYS[2])
redis.call('HSET', KEYS[1], 'itemName', ARGV[3], 'stock', sold + tonumber(ARGV[4]), 'sold', sold, 'startsAt', ARGV[5], 'endsAt', ARGV[6],
  'generation', ARGV[8])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'priceCents', ARGV[7]) end
if ARGV[9] ~= '1' then redis.call('HSET', KEYS[1], 'buckets', ARGV[9], 'totalStock', ARGV[10]) end
redis.call('DEL', KEYS[5])
return sold

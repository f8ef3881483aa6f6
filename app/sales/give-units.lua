-- Step 1 of a stock move (stock-moves.ts): takes spare units out of a donor bucket and records them as on their way.
-- KEYS[1] donor bucket hash, KEYS[2] donor's moves hash. ARGV[1] moveId, ARGV[2] receiving bucket, ARGV[3] units wanted,
-- ARGV[4] the sale's generation as the mover saw it.
-- Replies the units taken out: at least the units wanted (when there are), half the spare ones when that is more, and
-- 0 when the bucket has none to spare, is being rebuilt, or belongs to another generation.
local bucket = redis.call('HMGET', KEYS[1], 'stock', 'sold', 'generation', 'rebuildReason')
if not bucket[1] or bucket[4] or bucket[3] ~= ARGV[4] then return 0 end
local spare = tonumber(bucket[1]) - tonumber(bucket[2])
if spare <= 0 then return 0 end
local units = math.min(spare, math.max(tonumber(ARGV[3]), math.floor(spare / 2)))
redis.call('HINCRBY', KEYS[1], 'stock', -units)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. units .. ':' .. ARGV[4])
return units

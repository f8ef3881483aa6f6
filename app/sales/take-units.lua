-- Step 2 of a stock move (stock-moves.ts): adds a move's units to the receiving bucket, once, however often it is run.
-- KEYS[1] receiving bucket hash, KEYS[2] its moved-in set. ARGV[1] moveId, ARGV[2] units, ARGV[3] the move's generation.
-- Replies the units added; 0 when this move arrived before; -1 when the move is void: the bucket is gone or of a newer
-- generation, and the rebuild from MySQL that follows or followed shares out every unsold unit again; -2 while the
-- bucket is being rebuilt (the rebuild voids the move).
local bucket = redis.call('HMGET', KEYS[1], 'generation', 'rebuildReason')
if not bucket[1] or bucket[1] ~= ARGV[3] then return -1 end
if bucket[2] then return -2 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'stock', tonumber(ARGV[2]))
return tonumber(ARGV[2])

-- Puts the unit of an expired order back on sale, at most once: only while the buyer still holds that very order in
-- Redis. Removing the buyer is the marker (a second call, a second sweeper, a retry after a crash all find it gone),
-- and lets the buyer buy again. An order Redis no longer counts (the sale was rebuilt from MySQL, which leaves
-- expired orders out) returns nothing.
-- KEYS[1] the hash of the buyer's home bucket (sale-keys.ts), KEYS[2] its buyers hash. ARGV[1] userId, ARGV[2] orderId.
-- Replies 1 when the unit went back, 0 when there was nothing to return.
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HINCRBY', KEYS[1], 'sold', -1)
-- `sold + returned` only grows within a generation: what RESERVE_SCRIPT compares with what web hosts have seen.
redis.call('HINCRBY', KEYS[1], 'returned', 1)
return 1

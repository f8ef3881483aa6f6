-- Takes one unit for one buyer, atomically.
-- KEYS[1] sale hash (stock, sold, startsAt, endsAt in epoch ms), KEYS[2] buyers hash (userId -> orderId),
-- KEYS[3] order stream. ARGV[1] userId, ARGV[2] now (epoch ms), ARGV[3] saleId.
-- Replies {code} or {code, orderId} (codes: ReserveReply in reservation-script.ts). A buyer who already holds a
-- unit always gets their orderId back. The unit, the buyer record and the order event are written together or
-- not at all, and `sold` never passes `stock`. The order id is `<saleId>-<unit number>`, unique because `sold`
-- only grows.
local sale = redis.call('HMGET', KEYS[1], 'stock', 'sold', 'startsAt', 'endsAt')
if not sale[1] then return {0} end
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {2, existing} end
local now = tonumber(ARGV[2])
if now < tonumber(sale[3]) then return {3} end
if now >= tonumber(sale[4]) then return {4} end
if tonumber(sale[2]) >= tonumber(sale[1]) then return {5} end
local unit = redis.call('HINCRBY', KEYS[1], 'sold', 1)
local orderId = ARGV[3] .. '-' .. unit
redis.call('HSET', KEYS[2], ARGV[1], orderId)
redis.call('XADD', KEYS[3], '*', 'orderId', orderId, 'saleId', ARGV[3], 'userId', ARGV[1], 'reservedAt', ARGV[2])
return {1, orderId}

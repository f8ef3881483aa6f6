-- Takes one unit for one buyer, atomically.
-- KEYS[1] sale hash (stock, sold, startsAt, endsAt in epoch ms, generation, rebuildReason?, returned?), KEYS[2] buyers hash
-- (userId -> orderId), KEYS[3] order stream. ARGV[1] userId, ARGV[2] saleId, ARGV[3] and ARGV[4] the generation and
-- units handed out (sold + returned) this web host has already seen for the sale (0 0 when none).
-- Replies {code} or {code, orderId or false, generation, handed out} (codes: ReserveReply in reservation-script.ts). A buyer
-- who already holds a unit always gets their orderId back. The unit, the buyer record and the order event are written
-- together or not at all, and `sold` never passes `stock`.
local sale = redis.call('HMGET', KEYS[1], 'stock', 'sold', 'startsAt', 'endsAt', 'generation', 'rebuildReason', 'returned')
if not sale[1] then return {0} end
if sale[6] then return {6} end
local generation, sold = tonumber(sale[5]), tonumber(sale[2])
local returned = tonumber(sale[7] or '0')
-- Units handed out (`sold` plus those expired orders gave back, see return-unit.lua) only grow within a generation, so
-- a state behind what a web host saw is older data (a replica that lagged, an old snapshot): stop the sale until the
-- order writer has rebuilt it from MySQL.
local seenGeneration, seenHandedOut = tonumber(ARGV[3]), tonumber(ARGV[4])
if generation < seenGeneration or (generation == seenGeneration and sold + returned < seenHandedOut) then
  redis.call('HSET', KEYS[1], 'rebuildReason', 'Redis is behind what a web host has seen')
  return {6}
end
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {2, existing, generation, sold + returned} end
-- One clock for every web host: the window is checked, and the reservation stamped, with Redis's time.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if now < tonumber(sale[3]) then return {3, false, generation, sold + returned} end
if now >= tonumber(sale[4]) then return {4, false, generation, sold + returned} end
if sold >= tonumber(sale[1]) then return {5, false, generation, sold + returned} end
sold = redis.call('HINCRBY', KEYS[1], 'sold', 1)
-- No counter in the id: after Redis loses writes, a counter would number units again. Time and buyer make it unique;
-- the generation tells a lookup whether the order predates a rebuild (see ORDER_ID_PATTERN).
local buyerTag = string.sub(redis.sha1hex(ARGV[2] .. ':' .. ARGV[1]), 1, 16)
local orderId = string.format('%s-%d-%08x%05x-%s', ARGV[2], generation, tonumber(time[1]), tonumber(time[2]), buyerTag)
redis.call('HSET', KEYS[2], ARGV[1], orderId)
redis.call('XADD', KEYS[3], '*', 'orderId', orderId, 'saleId', ARGV[2], 'userId', ARGV[1], 'reservedAt', now)
return {1, orderId, generation, sold + returned}

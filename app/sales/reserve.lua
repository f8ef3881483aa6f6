-- Takes one unit for each buyer of a batch, atomically, in the order the buyers are given (first come, first served).
-- KEYS[1] sale hash (stock, sold, startsAt, endsAt in epoch ms, generation, rebuildReason?, returned?), KEYS[2] buyers
-- hash (userId -> orderId), KEYS[3] order stream. ARGV[1] saleId, ARGV[2] and ARGV[3] the generation and units handed
-- out (sold + returned) this web host has already seen for the sale's bucket (0 0 when none), ARGV[4..] the buyers'
-- userIds.
-- Replies {code} for the whole batch (unknownSale, rebuilding), or {generation, handed out, code1, orderId1 or false,
-- code2, ...} with one code per buyer (codes: ReserveReply in reservation-script.ts). A buyer who already holds a
-- unit (also one taken earlier in the same batch) gets their orderId back. Each unit, its buyer record and its order
-- event are written together or not at all, and `sold` never passes `stock`.
local sale = redis.call('HMGET', KEYS[1], 'stock', 'sold', 'startsAt', 'endsAt', 'generation', 'rebuildReason', 'returned')
if not sale[1] then return {0} end
if sale[6] then return {6} end
local generation, sold, stock = tonumber(sale[5]), tonumber(sale[2]), tonumber(sale[1])
local returned = tonumber(sale[7] or '0')
-- Units handed out (`sold` plus those expired orders gave back, see return-unit.lua) only grow within a generation, so
-- a state behind what a web host saw is older data (a replica that lagged, an old snapshot): stop the sale until the
-- order writer has rebuilt it from MySQL.
local seenGeneration, seenHandedOut = tonumber(ARGV[2]), tonumber(ARGV[3])
if generation < seenGeneration or (generation == seenGeneration and sold + returned < seenHandedOut) then
  redis.call('HSET', KEYS[1], 'rebuildReason', 'Redis is behind what a web host has seen')
  return {6}
end
-- One clock for every web host: the window is checked, and the reservations stamped, with Redis's time.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local closed = false
if now < tonumber(sale[3]) then closed = 3 elseif now >= tonumber(sale[4]) then closed = 4 end
local saleId = ARGV[1]
-- No counter in an order id: after Redis loses writes, a counter would number units again. Time and buyer make it
-- unique; the generation tells a lookup whether the order predates a rebuild (see ORDER_ID_PATTERN). The time part is
-- the batch's, so it is formatted once, as is the reservation time (the loop below is Redis's CPU per order).
local idPrefix = string.format('%s-%d-%08x%05x-', saleId, generation, tonumber(time[1]), tonumber(time[2]))
local reservedAt = tostring(now)
local reply = {generation, 0}
local taken = 0
for i = 4, #ARGV do
  local userId = ARGV[i]
  local code, id = 5, false
  if not closed and sold < stock then
    local orderId = idPrefix .. string.sub(redis.sha1hex(saleId .. ':' .. userId), 1, 16)
    -- One command both checks that the buyer holds nothing yet and records their unit.
    if redis.call('HSETNX', KEYS[2], userId, orderId) == 1 then
      sold = sold + 1
      taken = taken + 1
      redis.call('XADD', KEYS[3], '*', 'orderId', orderId, 'saleId', saleId, 'userId', userId, 'reservedAt', reservedAt)
      code, id = 1, orderId
    end
  end
  if code == 5 then
    local existing = redis.call('HGET', KEYS[2], userId)
    if existing then code, id = 2, existing elseif closed then code = closed end
  end
  reply[2 * i - 5] = code
  reply[2 * i - 4] = id
end
if taken > 0 then redis.call('HINCRBY', KEYS[1], 'sold', taken) end
reply[2] = sold + returned
return reply

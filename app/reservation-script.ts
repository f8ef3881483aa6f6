/**
 * Lua run inside Redis. Kept as string constants (not .lua files) so the service bundles into one
 * file. Every key arrives in KEYS[] and shares the `{sale:<id>}` hash tag, as Redis Cluster and
 * Tair proxy mode require; nothing builds a key name inside the script.
 */

/** Reply codes of RESERVE_SCRIPT (first element of the reply array). */
export const ReserveReply = {
  unknownSale: 0,
  reserved: 1,
  alreadyPurchased: 2,
  notStarted: 3,
  ended: 4,
  soldOut: 5,
} as const;

/**
 * Takes one unit for one buyer, atomically.
 * KEYS[1] sale hash (stock, sold, startsAt, endsAt in epoch ms), KEYS[2] buyers hash (userId -> orderId),
 * KEYS[3] order stream. ARGV[1] userId, ARGV[2] now (epoch ms), ARGV[3] saleId.
 * Replies {code} or {code, orderId}. A buyer who already holds a unit always gets their orderId back.
 * The unit, the buyer record and the order event are written together or not at all, and `sold`
 * never passes `stock`. The order id is `<saleId>-<unit number>`, unique because `sold` only grows.
 */
export const RESERVE_SCRIPT = `
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
`;

/**
 * Makes a sale visible with its full stock in one step, only if it is not there yet (a live sale's
 * counters are never overwritten).
 * KEYS[1] sale hash, KEYS[2] order stream. ARGV[1] consumer group, ARGV[2] itemName, ARGV[3] stock,
 * ARGV[4] startsAt, ARGV[5] endsAt (epoch ms), ARGV[6] priceCents or ''.
 * Replies 1 when loaded, 0 when the sale already existed.
 */
export const LOAD_SALE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local group = redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
if type(group) == 'table' and group.err and not string.find(group.err, 'BUSYGROUP') then
  return redis.error_reply(group.err)
end
redis.call('HSET', KEYS[1], 'itemName', ARGV[2], 'stock', ARGV[3], 'sold', 0, 'startsAt', ARGV[4], 'endsAt', ARGV[5])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'priceCents', ARGV[6]) end
return 1
`;

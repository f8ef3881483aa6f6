-- Appends a batch of order state changes to the order-events stream, one entry per change, in the order given, then
-- trims the stream to about its maximum length once. One script call instead of a pipeline of XADDs: ioredis builds
-- a command per XADD, which cost the publisher about three times the CPU per change.
-- KEYS[1] the stream. ARGV[1] its approximate maximum length, ARGV[2] the number of fields per change, ARGV[3..] the
-- field names, then each change's values in that order. Replies how many entries were added.
local maxLength, fieldCount = ARGV[1], tonumber(ARGV[2])
local entry = {'XADD', KEYS[1], '*'}
for f = 1, fieldCount do entry[2 + 2 * f] = ARGV[2 + f] end
local added = 0
for change = 3 + fieldCount, #ARGV, fieldCount do
  for f = 1, fieldCount do entry[3 + 2 * f] = ARGV[change + f - 1] end
  redis.call(unpack(entry))
  added = added + 1
end
redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', maxLength)
return added

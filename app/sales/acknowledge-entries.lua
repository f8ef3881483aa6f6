-- Acknowledges order events the writer has delivered and drops from the stream every entry no longer needed: those
-- before both the oldest entry still pending (read, not yet acknowledged, by any consumer) and the first not yet read.
-- One XTRIM drops whole stream nodes at a time, where an XDEL per entry searches each one out (about 1.6 µs an entry).
-- An acknowledged entry behind one still pending stays until that one is settled: nothing is read from it again.
-- KEYS[1] a bucket's order stream. ARGV[1] the consumer group, ARGV[2..] the entry ids. Replies how many were acknowledged.
local acknowledged = redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
local keepFrom
if pending[1] > 0 then
  keepFrom = pending[2]
else
  local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
  for _, group in ipairs(groups) do
    local fields = {}
    for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
    if fields['name'] == ARGV[1] then
      -- The id right after the last one read: its milliseconds as text (a 13-digit number would print as 1.7e+12).
      local ms, seq = string.match(fields['last-delivered-id'], '^(%d+)-(%d+)$')
      keepFrom = ms .. '-' .. (tonumber(seq) + 1)
    end
  end
end
if keepFrom then redis.call('XTRIM', KEYS[1], 'MINID', keepFrom) end
return acknowledged

-- snapshot.lua: an account's active sessions and the offset they are current at,
-- read in one atomic step so that every event after the offset is newer than the
-- snapshot. It only writes the account's epoch when the account has none yet.
-- State keys are built from ARGV[1] .. id: they carry the account's hash tag, so
-- they live in the script's slot.
--
-- KEYS: 1 active zset, 2 log stream, 3 epoch
-- ARGV: 1 state key prefix, 2 a fresh epoch
-- Returns {epoch, last stream id, v1, d1, v2, d2, ...} in dateCreated order.
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', KEYS[3], epoch)
end
local last = '0-0'
local e = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #e > 0 then last = e[1][1] end
local out = {epoch, last}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local s = redis.call('HMGET', ARGV[1] .. id, 'v', 'd')
  if s[1] and s[2] then
    out[#out + 1] = s[1]
    out[#out + 1] = s[2]
  end
end
return out

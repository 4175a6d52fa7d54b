-- session.lua: one session and its account's offset, read atomically.
--
-- KEYS: 1 state hash, 2 log stream, 3 epoch
-- ARGV: 1 a fresh epoch
-- Returns {epoch, last stream id, v, d}; v and d are false when there is no session.
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[1]
  redis.call('SET', KEYS[3], epoch)
end
local last = '0-0'
local e = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if #e > 0 then last = e[1][1] end
local s = redis.call('HMGET', KEYS[1], 'v', 'd')
return {epoch, last, s[1], s[2]}

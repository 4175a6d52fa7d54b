-- cas.lua: the one write of sessionhub. Compare and set a session's state, keep
-- the account's indexes, append the event to the account's stream and publish it,
-- all in one atomic step, so no subscriber sees a change that is not stored and
-- no stored change goes unpublished. The domain rules run in Go; this only
-- compares and sets.
--
-- KEYS: 1 state hash, 2 active zset, 3 all zset, 4 log stream, 5 shard channel, 6 epoch
-- ARGV: 1 expected version ("0" = must not exist), 2 new version, 3 session JSON,
--       4 session id, 5 ended ("1"/"0"), 6 dateCreated (ms, the zset score),
--       7 retention (ms), 8 stream MAXLEN, 9 event header, 10 a fresh epoch
--       (used only when the account has none yet)
-- Returns {1, epoch, stream id} when stored; {0, "exists"} or {0, "stale"} when not.
local cur = redis.call('HGET', KEYS[1], 'v')
if ARGV[1] == '0' then
  if cur then return {0, 'exists'} end
elseif cur ~= ARGV[1] then
  return {0, 'stale'}
end
local epoch = redis.call('GET', KEYS[6])
if not epoch then
  epoch = ARGV[10]
  redis.call('SET', KEYS[6], epoch)
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
if ARGV[5] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
else
  redis.call('ZADD', KEYS[2], ARGV[6], ARGV[4])
end
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[4])
local id = redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[8], '*', 'h', ARGV[9], 'd', ARGV[3])
redis.call('SPUBLISH', KEYS[5], 'e ' .. epoch .. ' ' .. id .. ' ' .. ARGV[9] .. '\n' .. ARGV[3])
return {1, epoch, id}

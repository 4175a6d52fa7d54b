-- replay.lua: the account's events after an offset, only when every one of them
-- is still retained: same epoch, the offset not past the newest id, and nothing
-- after it trimmed or deleted (XINFO STREAM: entries-added, length, first-entry,
-- max-deleted-entry-id).
--
-- KEYS: 1 log stream, 2 epoch
-- ARGV: 1 the offset's epoch, 2 the offset's stream id
-- Returns {1, entries} (entries as XRANGE gives them) or {0} when gone.
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end

if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0} end
local since = ARGV[2]
local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[1])
if not ok then
  -- No stream: nothing was written in this epoch, so only its start is current.
  if since == '0-0' then return {1, {}} end
  return {0}
end
local f = {}
for i = 1, #info, 2 do f[info[i]] = info[i + 1] end
local last = f['last-generated-id']
if less(last, since) then return {0} end
if since == last then return {1, {}} end
-- XDEL (never used by sessionhub, but possible by hand) shows here.
local deleted = f['max-deleted-entry-id']
if deleted and less(since, deleted) then return {0} end
-- Trimming does not move max-deleted-entry-id: when the stream holds fewer
-- entries than were ever added, only a retained entry at or before since
-- proves that nothing after since is gone.
if f['entries-added'] == nil or f['entries-added'] ~= f['length'] then
  local first = f['first-entry']
  if not first or less(since, first[1]) then return {0} end
end
return {1, redis.call('XRANGE', KEYS[1], '(' .. since, '+')}

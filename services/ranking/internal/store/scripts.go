package store

import "github.com/redis/go-redis/v9"

// Every script is written with {{name}} placeholders for the key names,
// hash fields, entry field positions, enum values and answers it uses, and
// rendered from the Go constants (see render), so Go and Lua cannot drift.

// luaCommon is prepended to every script: a reader of the leading fields of
// a stored entry (see EncodeEntry) by name, a lookup in a flat HGETALL
// reply, a high-water mark and the layout check.
const luaCommon = `
local function entry(s)
  local t, i, n = {}, 1, 0
  while n < {{#fRead}} do
    local j = string.find(s, '\t', i, true)
    n = n + 1
    if not j then t[n] = string.sub(s, i); break end
    t[n] = string.sub(s, i, j - 1)
    i = j + 1
  end
  return {rev = t[{{#fRevision}}], score = t[{{#fScore}}] or '', sumsq = t[{{#fSumSq}}] or '', band = t[{{#fBand}}] or '',
    basis = t[{{#fBasis}}] or '', boards = t[{{#fBoards}}] or '', time = t[{{#fTime}}] or '0', syn = t[{{#fSynthetic}}] or ''}
end
local function hget(flat, k)
  for i = 1, #flat, 2 do if flat[i] == k then return flat[i + 1] end end
  return nil
end
local function highwater(key, field, v)
  local cur = redis.call('HGET', key, field)
  if (not cur) or tonumber(cur) < tonumber(v) then redis.call('HSET', key, field, v) end
end
local function layoutok(v)
  return redis.call('GET', {{layoutKey}}) == v
end
local function behind(key, field, floor)
  return tonumber(redis.call('HGET', key, field) or '0') < tonumber(floor)
end
`

func script(src string) *redis.Script { return redis.NewScript(render(luaCommon + src)) }

// applyScript applies AssessmentRecorded events, in their order, to their
// rounds' current generations, atomically: the per-entry revision decides,
// so a duplicate or an older revision arriving late changes nothing; a
// newer one first takes the old revision's contribution off every board it
// was on (score, counts, sums), then adds its own. The checks of the layout,
// the rebuild mark and the floor are made once for all of them; what the
// events of one round repeat (its generation, fences, metadata, groups and
// band table) is read or written once per call, so a batch costs Redis
// little more than its entries and board updates.
//
// ARGV: 1 layout, 2 base, 3 floor (see Store.ApplyFrom), then per event the
// number n of its arguments and those n: 1 round tag "{scheme:year}",
// 2 "scheme:year", 3 scheme, 4 year, 5 institution, 6 stream sequence,
// 7 encoded entry, 8 round id, 9 scheme version, 10 precision, 11 band
// code, 12 band meta, 13 round revision the record was decided on, 14 the
// number of peer groups, then pairs of (group code, group meta), then the
// scheme's band table as pairs of (code, meta), which overrides the
// record's own band meta.
// Returns NOLAYOUT, BUSY or BEHIND (nothing applied), or one answer per
// event: OK, DUP, STALE or FENCED (past the fence of the close that
// replaced its round revision: not part of the round).
var applyScript = script(`
if not layoutok(ARGV[1]) then return {{NOLAYOUT}} end
if redis.call('EXISTS', {{markKey}}) == 1 then return {{BUSY}} end
local base = ARGV[2]
if behind(base .. {{seq}}, {{seqAssessments}}, ARGV[3]) then return {{BEHIND}} end

-- What this call wrote or read already: hash fields only ever set whole
-- here (a field written again with the value it holds changes nothing),
-- members added, and numbers it compares against.
local held, added, metas, fences, gens, times, maxes = {}, {}, {}, {}, {}, {}, {}
-- the table t holds under k, made on first use
local function within(t, k)
  local inner = t[k]
  if not inner then
    inner = {}
    t[k] = inner
  end
  return inner
end
local function hsetonce(key, field, v)
  local h = within(held, key)
  if h[field] ~= v then
    redis.call('HSET', key, field, v)
    h[field] = v
  end
end
local function addonce(cmd, key, score, member)
  local a = within(added, key)
  if not a[member] then
    if score then redis.call(cmd, key, score, member) else redis.call(cmd, key, member) end
    a[member] = true
  end
end
local function neg(x)
  if x == '0' then return '0' end
  if string.sub(x, 1, 1) == '-' then return string.sub(x, 2) end
  return '-' .. x
end
local function contribute(P, inst, f, sign)
  local scored = f.score ~= ''
  for b in string.gmatch(f.boards, '[^,]+') do
    local pop = P .. {{pop}} .. b
    if scored then
      if sign > 0 then
        redis.call('ZADD', P .. {{z}} .. b, f.score, inst)
        redis.call('HINCRBY', pop, {{popSum}}, f.score)
        redis.call('HINCRBY', pop, {{popSumSq}}, f.sumsq)
      else
        redis.call('ZREM', P .. {{z}} .. b, inst)
        redis.call('HINCRBY', pop, {{popSum}}, neg(f.score))
        redis.call('HINCRBY', pop, {{popSumSq}}, neg(f.sumsq))
      end
      redis.call('HINCRBY', pop, {{popN}}, sign)
      if f.syn == '1' then
        redis.call('HINCRBY', pop, {{popSynthetic}}, sign)
      end
    end
    redis.call('HINCRBY', pop, {{popBand}} .. f.band, sign)
    if f.basis == {{reportedBand}} then
      redis.call('HINCRBY', pop, {{popReported}} .. f.band, sign)
      redis.call('HINCRBY', pop, {{popReportedN}}, sign)
    end
    if sign > 0 then
      addonce('SADD', P .. {{boards}}, nil, b)
      local cur = times[pop]
      if cur == nil then
        local v = redis.call('HGET', pop, {{popTime}})
        cur = v and tonumber(v)
      end
      if (not cur) or cur < tonumber(f.time) then
        redis.call('HSET', pop, {{popTime}}, f.time)
        cur = tonumber(f.time)
      end
      times[pop] = cur
    end
  end
end

-- one event, its n arguments from ARGV[i + 1]: its answer
local function apply(A, i, n)
  local tag, seq = A[i + 1], tonumber(A[i + 6])
  if A[i + 13] ~= '0' then
    local fs = within(fences, tag)
    local fence = fs[A[i + 13]]
    if fence == nil then
      fence = redis.call('HGET', base .. tag .. {{fences}}, A[i + 13])
      fs[A[i + 13]] = fence
    end
    if fence and seq > tonumber(fence) then return {{FENCED}} end
  end
  local rk = base .. tag .. {{round}}
  local gen = gens[rk]
  if not gen then
    gen = redis.call('HGET', rk, {{gen}})
    if not gen then
      gen = tostring(redis.call('INCR', base .. {{genseq}}))
      redis.call('HSET', rk, {{gen}}, gen)
    end
    gens[rk] = gen
    redis.call('HSETNX', rk, {{state}}, {{pending_state}})
  end
  local meta = A[i + 8] .. '\0' .. A[i + 9] .. '\0' .. A[i + 10]
  if metas[rk] ~= meta then
    redis.call('HSET', rk, {{id}}, A[i + 8], {{version}}, A[i + 9], {{precision}}, A[i + 10], {{scheme}}, A[i + 3], {{year}}, A[i + 4])
    metas[rk] = meta
  end
  addonce('SADD', base .. {{rounds}}, nil, A[i + 2])
  addonce('ZADD', base .. {{years}} .. A[i + 3], A[i + 4], A[i + 4])
  local P = base .. tag .. ':g' .. gen .. ':'
  local inst = A[i + 5]

  local new = entry(A[i + 7])
  local oldraw = redis.call('HGET', P .. {{e}}, inst)
  if oldraw then
    local old = entry(oldraw)
    local orev, nrev = tonumber(old.rev), tonumber(new.rev)
    if orev == nrev then return {{DUP}} end
    if orev > nrev then return {{STALE}} end
    contribute(P, inst, old, -1)
  end
  contribute(P, inst, new, 1)
  redis.call('HSET', P .. {{e}}, inst, A[i + 7])
  hsetonce(P .. {{bands}}, A[i + 11], A[i + 12])
  if new.score ~= '' then
    local ms = within(maxes, P)
    local m = ms[A[i + 11]]
    if m == nil then
      local v = redis.call('HGET', P .. {{bandmax}}, A[i + 11])
      m = v and tonumber(v)
    end
    if (not m) or m < tonumber(new.score) then
      redis.call('HSET', P .. {{bandmax}}, A[i + 11], new.score)
      m = tonumber(new.score)
    end
    ms[A[i + 11]] = m
  end
  local j = i + 15
  for _ = 1, tonumber(A[i + 14]) do
    hsetonce(P .. {{groups}}, A[j], A[j + 1])
    j = j + 2
  end
  while j < i + n do
    hsetonce(P .. {{bands}}, A[j], A[j + 1])
    j = j + 2
  end
  return {{OK}}
end

-- The high-water mark is raised by every event, answered OK or not, once
-- the chunk has run to its end (a script stopped by an error leaves it
-- where it was: the consumer sends the whole batch again). It is passed on
-- as the event's own string: Lua would print a big number in exponent
-- notation.
local out, top = {}, '0'
local i = 4
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  if tonumber(ARGV[i + 6]) > tonumber(top) then top = ARGV[i + 6] end
  out[#out + 1] = apply(ARGV, i, n)
  i = i + n + 1
end
highwater(base .. {{seq}}, {{seqAssessments}}, top)
return out
`)

// roundScript applies a RoundChanged or RoundPublished. FINAL is sticky: a
// late or redelivered change event never makes a published round
// provisional again.
//
// ARGV: 1 layout, 2 base, 3 round tag, 4 "scheme:year", 5 scheme, 6 year,
// 7 round id, 8 scheme version, 9 state (final or pending), 10 stream
// sequence, 11 floor (see Store.ApplyFrom), 12.. pairs of (round revision,
// fence): a fence seen for the first time is also marked for a check of the
// records applied before it was known.
var roundScript = script(`
if not layoutok(ARGV[1]) then return {{NOLAYOUT}} end
if redis.call('EXISTS', {{markKey}}) == 1 then return {{BUSY}} end
local base = ARGV[2]
if behind(base .. {{seq}}, {{seqRounds}}, ARGV[11]) then return {{BEHIND}} end
highwater(base .. {{seq}}, {{seqRounds}}, ARGV[10])
local rk = base .. ARGV[3] .. {{round}}
if ARGV[9] == {{final_state}} then redis.call('HSET', rk, {{state}}, {{final_state}}) else redis.call('HSETNX', rk, {{state}}, {{pending_state}}) end
redis.call('HSET', rk, {{scheme}}, ARGV[5], {{year}}, ARGV[6])
if ARGV[7] ~= '' then redis.call('HSET', rk, {{id}}, ARGV[7]) end
if ARGV[8] ~= '' then redis.call('HSET', rk, {{version}}, ARGV[8]) end
redis.call('SADD', base .. {{rounds}}, ARGV[4])
redis.call('ZADD', base .. {{years}} .. ARGV[5], ARGV[6], ARGV[6])
for i = 12, #ARGV, 2 do
  if redis.call('HSETNX', base .. ARGV[3] .. {{fences}}, ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HSET', base .. ARGV[3] .. {{fencecheck}}, ARGV[i], ARGV[i + 1])
  end
end
return {{OK}}
`)

// bumpScript records that a stream sequence was handled without changing
// a board (an event that can never be applied).
// ARGV: 1 base, 2 field, 3 sequence.
var bumpScript = script(`
highwater(ARGV[1] .. {{seq}}, ARGV[2], ARGV[3])
return {{OK}}
`)

// releaseScript deletes the rebuild mark only if it is still ours.
// ARGV: 1 token.
var releaseScript = script(`
if redis.call('GET', {{markKey}}) == ARGV[1] then return redis.call('DEL', {{markKey}}) end
return 0
`)

// refreshScript extends the rebuild mark only if it is still ours.
// ARGV: 1 token, 2 TTL in milliseconds.
var refreshScript = script(`
if redis.call('GET', {{markKey}}) == ARGV[1] then return redis.call('PEXPIRE', {{markKey}}, ARGV[2]) end
return 0
`)

// swapScript switches rebuilt rounds to their new generation, all at once,
// sets the layout version and releases the rebuild mark. It returns the
// generations replaced ("tag|gen"), for the caller to delete.
//
// ARGV: 1 token, 2 layout, 3 base, 4 full (1: drop rounds not rebuilt),
// 5 assessments sequence, 6 rounds sequence, 7 number of rounds, then per
// round: tag, "scheme:year", gen, round id, version, precision, state,
// scheme, year.
// Returns {OK, replaced} or {LOSTMARK}.
var swapScript = script(`
if redis.call('GET', {{markKey}}) ~= ARGV[1] then return {{{LOSTMARK}}} end
local base = ARGV[3]
local old, keep = {}, {}
local i = 8
for r = 1, tonumber(ARGV[7]) do
  local tag, rkey, gen = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local rk = base .. tag .. {{round}}
  local og = redis.call('HGET', rk, {{gen}})
  if og and og ~= gen then old[#old + 1] = tag .. '|' .. og end
  redis.call('DEL', rk)
  redis.call('HSET', rk, {{gen}}, gen, {{state}}, ARGV[i + 6], {{scheme}}, ARGV[i + 7], {{year}}, ARGV[i + 8])
  if ARGV[i + 3] ~= '' then redis.call('HSET', rk, {{id}}, ARGV[i + 3]) end
  if ARGV[i + 4] ~= '' then redis.call('HSET', rk, {{version}}, ARGV[i + 4]) end
  if ARGV[i + 5] ~= '' then redis.call('HSET', rk, {{precision}}, ARGV[i + 5]) end
  redis.call('SADD', base .. {{rounds}}, rkey)
  redis.call('ZADD', base .. {{years}} .. ARGV[i + 7], ARGV[i + 8], ARGV[i + 8])
  redis.call('SREM', base .. {{pending}}, tag .. '|' .. gen)
  keep[rkey] = true
  i = i + 9
end
if ARGV[4] == '1' then
  for _, rkey in ipairs(redis.call('SMEMBERS', base .. {{rounds}})) do
    if not keep[rkey] then
      local tag = '{' .. rkey .. '}'
      local rk = base .. tag .. {{round}}
      local og = redis.call('HGET', rk, {{gen}})
      if og then old[#old + 1] = tag .. '|' .. og end
      local scheme, year = string.match(rkey, '^(.*):(%d+)$')
      redis.call('DEL', rk)
      redis.call('SREM', base .. {{rounds}}, rkey)
      if scheme then redis.call('ZREM', base .. {{years}} .. scheme, year) end
    end
  end
end
redis.call('SET', {{layoutKey}}, ARGV[2])
highwater(base .. {{seq}}, {{seqAssessments}}, ARGV[5])
highwater(base .. {{seq}}, {{seqRounds}}, ARGV[6])
redis.call('DEL', {{markKey}})
return {{{OK}}, old}
`)

// standingScript reads everything GetStanding needs in one atomic step, so a
// swap never shows half of one generation and half of another.
//
// ARGV: 1 layout, 2 base, 3 scheme, 4 year, 5 institution.
// Returns the standing reply (see standingReply).
var standingScript = script(`
if not layoutok(ARGV[1]) then return {{{NOLAYOUT}}} end
local base, scheme, inst = ARGV[2], ARGV[3], ARGV[5]
local function prefix(year, meta)
  local gen = hget(meta, {{gen}})
  if not gen then return nil end
  return base .. '{' .. scheme .. ':' .. year .. '}:g' .. gen .. ':'
end
local meta = redis.call('HGETALL', base .. '{' .. scheme .. ':' .. ARGV[4] .. '}' .. {{round}})
if #meta == 0 then return {{{NOROUND}}} end
local P = prefix(ARGV[4], meta)
local raw = ''
if P then raw = redis.call('HGET', P .. {{e}}, inst) or '' end
if raw == '' then return {{{OK}}, meta, ''} end
local f = entry(raw)
local boards = {}
for b in string.gmatch(f.boards, '[^,]+') do
  local z = P .. {{z}} .. b
  local n, higher, lower = redis.call('ZCARD', z), 0, 0
  if f.score ~= '' then
    higher = redis.call('ZCOUNT', z, '(' .. f.score, '+inf')
    lower = redis.call('ZCOUNT', z, '-inf', '(' .. f.score)
  end
  local grp = string.match(b, '^[^:]+')
  boards[#boards + 1] = {b, n, higher, lower, redis.call('HGET', P .. {{pop}} .. b, {{popTime}}) or '0', redis.call('HGET', P .. {{groups}}, grp) or ''}
end
local band = redis.call('HGET', P .. {{bands}}, f.band) or ''
local prev = {}
local py = redis.call('ZREVRANGEBYSCORE', base .. {{years}} .. scheme, '(' .. ARGV[4], '-inf', 'LIMIT', 0, 1)
if #py > 0 then
  local pmeta = redis.call('HGETALL', base .. '{' .. scheme .. ':' .. py[1] .. '}' .. {{round}})
  local PP = prefix(py[1], pmeta)
  local pentry = ''
  if PP then pentry = redis.call('HGET', PP .. {{e}}, inst) or '' end
  prev = {py[1], pmeta, pentry}
  for b in string.gmatch(f.boards, '[^,]+') do
    local n, rank, score = 0, 0, ''
    if PP then
      local z = PP .. {{z}} .. b
      n = redis.call('ZCARD', z)
      local s = redis.call('ZSCORE', z, inst)
      if s then
        rank = redis.call('ZCOUNT', z, '(' .. s, '+inf') + 1
        score = s
      end
    end
    prev[#prev + 1] = {n, rank, score}
  end
end
return {{{OK}}, meta, raw, boards, band, prev}
`)

// pageScript reads one leaderboard page in one atomic step: whole tie groups
// (every entry sharing a score, with its competition rank and stored entry),
// enough of them to fill a page after the cursor.
//
// ARGV: 1 layout, 2 base, 3 round tag, 4 board id, 5 page size, 6 cursor
// score ("" for the first page), 7 peer group code.
// Returns the page reply (see pageReply).
var pageScript = script(`
if not layoutok(ARGV[1]) then return {{{NOLAYOUT}}} end
local base = ARGV[2]
local meta = redis.call('HGETALL', base .. ARGV[3] .. {{round}})
if #meta == 0 then return {{{NOROUND}}} end
local gen = hget(meta, {{gen}})
if not gen then return {{{OK}}, meta, '', 0, '0', {}, 0, {}} end
local P = base .. ARGV[3] .. ':g' .. gen .. ':'
local z = P .. {{z}} .. ARGV[4]
local size = tonumber(ARGV[5])
local scores, list = {}, nil
if ARGV[6] == '' then
  list = redis.call('ZREVRANGE', z, 0, size - 1, 'WITHSCORES')
else
  scores[1] = ARGV[6]
  list = redis.call('ZREVRANGEBYSCORE', z, '(' .. ARGV[6], '-inf', 'WITHSCORES', 'LIMIT', 0, size)
end
for i = 2, #list, 2 do
  if scores[#scores] ~= list[i] then scores[#scores + 1] = list[i] end
end
local groups = {}
for _, s in ipairs(scores) do
  local members = redis.call('ZRANGEBYSCORE', z, s, s)
  if #members > 0 then
    local entries = {}
    for i = 1, #members, 1000 do
      local chunk = redis.call('HMGET', P .. {{e}}, unpack(members, i, math.min(i + 999, #members)))
      for _, e in ipairs(chunk) do entries[#entries + 1] = e or '' end
    end
    groups[#groups + 1] = {s, redis.call('ZCOUNT', z, '(' .. s, '+inf') + 1, members, entries}
  end
end
local below = 0
if #scores > 0 then below = redis.call('ZCOUNT', z, '-inf', '(' .. scores[#scores]) end
return {{{OK}}, meta, redis.call('HGET', P .. {{groups}}, ARGV[7]) or '', redis.call('ZCARD', z),
  redis.call('HGET', P .. {{pop}} .. ARGV[4], {{popTime}}) or '0', groups, below, redis.call('HGETALL', P .. {{bands}})}
`)

// statsScript reads a board's statistics inputs in one atomic step.
//
// ARGV: 1 layout, 2 base, 3 round tag, 4 board id, 5 peer group code.
// Returns the statistics reply (see statsReply).
var statsScript = script(`
if not layoutok(ARGV[1]) then return {{{NOLAYOUT}}} end
local base = ARGV[2]
local meta = redis.call('HGETALL', base .. ARGV[3] .. {{round}})
if #meta == 0 then return {{{NOROUND}}} end
local gen = hget(meta, {{gen}})
if not gen then return {{{OK}}, meta, '', {}, 0, '', '', '', '', {}, {}} end
local P = base .. ARGV[3] .. ':g' .. gen .. ':'
local z = P .. {{z}} .. ARGV[4]
local n = redis.call('ZCARD', z)
local function at(i)
  local r = redis.call('ZRANGE', z, i, i, 'WITHSCORES')
  if #r == 0 then return '' end
  return r[2]
end
local mn, mx, lo, hi = '', '', '', ''
if n > 0 then
  mn, mx = at(0), at(n - 1)
  lo, hi = at(math.floor((n - 1) / 2)), at(math.floor(n / 2))
end
return {{{OK}}, meta, redis.call('HGET', P .. {{groups}}, ARGV[5]) or '', redis.call('HGETALL', P .. {{pop}} .. ARGV[4]),
  n, mn, mx, lo, hi, redis.call('HGETALL', P .. {{bands}}), redis.call('HGETALL', P .. {{bandmax}})}
`)

// boardsScript lists a round's boards.
//
// ARGV: 1 layout, 2 base, 3 round tag.
// Returns the boards reply (see boardsReply).
var boardsScript = script(`
if not layoutok(ARGV[1]) then return {{{NOLAYOUT}}} end
local base = ARGV[2]
local meta = redis.call('HGETALL', base .. ARGV[3] .. {{round}})
if #meta == 0 then return {{{NOROUND}}} end
local gen = hget(meta, {{gen}})
if not gen then return {{{OK}}, meta, {}, {}} end
local P = base .. ARGV[3] .. ':g' .. gen .. ':'
local out = {}
for _, b in ipairs(redis.call('SMEMBERS', P .. {{boards}})) do
  out[#out + 1] = {b, redis.call('ZCARD', P .. {{z}} .. b), redis.call('HGET', P .. {{pop}} .. b, {{popTime}}) or '0'}
end
return {{{OK}}, meta, redis.call('HGETALL', P .. {{groups}}), out}
`)

// versionScript tells whether the boards may have changed since it was last
// asked: the layout, whether a rebuild holds the boards, the applied
// sequences and each round's generation and meta, as one text that moves
// with any of them.
//
// ARGV: 1 layout, 2 base.
// Returns {text, settled}: settled is 1 when boards of this layout are
// there and no rebuild holds them.
var versionScript = script(`
local base = ARGV[2]
local layout = redis.call('GET', {{layoutKey}}) or ''
local mark = redis.call('EXISTS', {{markKey}})
local out = {layout, tostring(mark)}
local seq = redis.call('HGETALL', base .. {{seq}})
for i = 1, #seq do out[#out + 1] = seq[i] end
local rounds = redis.call('SMEMBERS', base .. {{rounds}})
table.sort(rounds)
for _, rk in ipairs(rounds) do
  local m = redis.call('HMGET', base .. '{' .. rk .. '}' .. {{round}}, {{gen}}, {{state}}, {{id}}, {{version}}, {{precision}})
  out[#out + 1] = rk
  for i = 1, #m do out[#out + 1] = m[i] or '' end
end
local settled = 0
if layout == ARGV[1] and mark == 0 then settled = 1 end
return {table.concat(out, '|'), settled}
`)

var allScripts = []*redis.Script{applyScript, roundScript, bumpScript, releaseScript, refreshScript, swapScript, standingScript, pageScript, statsScript, boardsScript, versionScript}

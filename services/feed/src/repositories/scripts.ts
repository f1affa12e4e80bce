/**
 * The Lua scripts the feed's writes run as. Redis runs a script atomically: nothing else runs while
 * it does, so one event's reads (is the post gone, who follows the author) and writes happen as one
 * step, and two events handled at once (partitions are consumed concurrently, replicas too) never
 * interleave. Keys are built inside the scripts from the prefix (ARGV[1]), which a standalone Redis
 * (or a Sentinel primary) allows and Redis Cluster does not: the feed needs one Redis, not a cluster.
 * docs/feed.md (Redis keys) lists every key.
 */

const HELPERS = `
local P = ARGV[1]

-- Byte order, whatever the collation Redis runs with (Lua's < on strings follows the locale).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

-- Keeps the newest \`keep\` members (0: no bound) and drops those older than the window.
local function trim(key, keep, minScore)
  if keep > 0 then redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 1)) end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. minScore)
end

-- Makes a key live at least until \`at\` (ms since the epoch).
local function expireAtLeast(key, at)
  local ttl = redis.call('PTTL', key)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if ttl < 0 or now + ttl < tonumber(at) then redis.call('PEXPIREAT', key, at) end
end

local function deletedUser(id)
  return redis.call('SISMEMBER', P .. 'deleted-users', id) == 1
end

-- Takes an entry out of every list that names it, and its indexes. The home feeds of an author's
-- followers are cleaned here only when \`eager\` and the author is not a big account (at most
-- FEED_FANOUT_MAX_FOLLOWERS of them); otherwise readers drop the id when they meet it.
local function removeEntry(id, eager)
  local key = P .. 'entry:' .. id
  local json = redis.call('GET', key)
  if not json then return 0 end
  local e = cjson.decode(json)
  redis.call('ZREM', P .. 'global', id)
  redis.call('ZREM', P .. 'by:' .. e.actor, id)
  if e.kind == 'post' then
    redis.call('ZREM', P .. 'timeline:' .. e.actor, id)
    if eager and redis.call('SISMEMBER', P .. 'big', e.actor) == 0 then
      local followers = redis.call('SMEMBERS', P .. 'followers:' .. e.actor)
      for i = 1, #followers do redis.call('ZREM', P .. 'home:' .. followers[i], id) end
    end
  else
    redis.call('ZREM', P .. 'home:' .. e.post_author_id, id)
    redis.call('DEL', P .. 'comment:' .. e.comment_id)
  end
  redis.call('SREM', P .. 'post:' .. e.post_id, id)
  redis.call('DEL', key)
  return 1
end
`;

const script = (body: string): string => `${HELPERS}\n${body}`;

/**
 * user.followed / user.unfollowed. ARGV: prefix, follower, followee, version, '1' (follow) or '0',
 * cap, keep, minScore. The last event of a pair wins (its version: time, then id), so an older one
 * replayed after a newer one changes nothing. A follow copies the followee's recent posts into the
 * follower's home feed (unless the followee is a big account, whose timeline reads merge in); an
 * unfollow takes them out. Returns {outcome, entries copied}.
 */
export const FOLLOW = script(`
local f, a, v, on = ARGV[2], ARGV[3], ARGV[4], ARGV[5] == '1'
local cap, keep, minScore = tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8]
if deletedUser(f) or deletedUser(a) then return {'gone', 0} end
local versions = P .. 'follow-version:' .. f
local current = redis.call('HGET', versions, a)
if current then
  if current == v then return {'duplicate', 0} end
  if not before(current, v) then return {'stale', 0} end
end
redis.call('HSET', versions, a, v)
local home, timeline = P .. 'home:' .. f, P .. 'timeline:' .. a
if on then
  redis.call('SADD', P .. 'following:' .. f, a)
  redis.call('SADD', P .. 'followers:' .. a, f)
  if redis.call('SCARD', P .. 'followers:' .. a) > cap then redis.call('SADD', P .. 'big', a) end
  if redis.call('SISMEMBER', P .. 'big', a) == 1 then return {'applied', 0} end
  local items = redis.call('ZREVRANGEBYSCORE', timeline, '+inf', minScore, 'WITHSCORES', 'LIMIT', 0, keep)
  for i = 1, #items, 2 do redis.call('ZADD', home, items[i + 1], items[i]) end
  trim(home, keep, minScore)
  return {'applied', #items / 2}
end
redis.call('SREM', P .. 'following:' .. f, a)
redis.call('SREM', P .. 'followers:' .. a, f)
local items = redis.call('ZRANGE', timeline, 0, -1)
for i = 1, #items do redis.call('ZREM', home, items[i]) end
return {'applied', 0}
`);

/**
 * post.published. ARGV: prefix, entry id, author, post id, score, entry JSON, expireAt, cap, keep,
 * globalKeep, minScore. Onto the author's timeline and the global feed, then into each follower's
 * home feed, unless the author has more than `cap` followers (a big account, from then on).
 * Returns {outcome, home feeds written}; outcome `timeline-only` for a big account.
 */
export const ADD_POST = script(`
local id, author, post, score, json, expireAt = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local cap, keep, globalKeep, minScore = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
if deletedUser(author) or redis.call('EXISTS', P .. 'gone:post:' .. post) == 1 then return {'gone', 0} end
local key = P .. 'entry:' .. id
if redis.call('EXISTS', key) == 1 then return {'duplicate', 0} end
redis.call('SET', key, json)
redis.call('PEXPIREAT', key, expireAt)
local timeline = P .. 'timeline:' .. author
redis.call('ZADD', timeline, score, id)
trim(timeline, keep, minScore)
local by = P .. 'by:' .. author
redis.call('ZADD', by, score, id)
trim(by, 0, minScore)
redis.call('ZADD', P .. 'global', score, id)
trim(P .. 'global', globalKeep, minScore)
local index = P .. 'post:' .. post
redis.call('SADD', index, id)
expireAtLeast(index, expireAt)
local followers = P .. 'followers:' .. author
if redis.call('SCARD', followers) > cap then redis.call('SADD', P .. 'big', author) end
if redis.call('SISMEMBER', P .. 'big', author) == 1 then return {'timeline-only', 0} end
local members = redis.call('SMEMBERS', followers)
local written = 0
for i = 1, #members do
  -- A follower being erased is still in the set until FeedStore.detachUser gets to them.
  if not deletedUser(members[i]) then
    local home = P .. 'home:' .. members[i]
    redis.call('ZADD', home, score, id)
    trim(home, keep, minScore)
    written = written + 1
  end
end
return {'applied', written}
`);

/**
 * comment.created. ARGV: prefix, entry id, commenter, post id, post author, comment id, score, entry
 * JSON, expireAt, keep, globalKeep, minScore. Into the post author's home feed (not for their own
 * comment) and the global feed. Returns {outcome, home feeds written}.
 */
export const ADD_COMMENT = script(`
local id, commenter, post, owner, comment = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local score, json, expireAt = ARGV[7], ARGV[8], ARGV[9]
local keep, globalKeep, minScore = tonumber(ARGV[10]), tonumber(ARGV[11]), ARGV[12]
if deletedUser(commenter) or deletedUser(owner) then return {'gone', 0} end
if redis.call('EXISTS', P .. 'gone:post:' .. post) == 1 or redis.call('EXISTS', P .. 'gone:comment:' .. comment) == 1 then return {'gone', 0} end
local key = P .. 'entry:' .. id
if redis.call('EXISTS', key) == 1 then return {'duplicate', 0} end
redis.call('SET', key, json)
redis.call('PEXPIREAT', key, expireAt)
local by = P .. 'by:' .. commenter
redis.call('ZADD', by, score, id)
trim(by, 0, minScore)
redis.call('ZADD', P .. 'global', score, id)
trim(P .. 'global', globalKeep, minScore)
local index = P .. 'post:' .. post
redis.call('SADD', index, id)
expireAtLeast(index, expireAt)
local byComment = P .. 'comment:' .. comment
redis.call('SET', byComment, id)
redis.call('PEXPIREAT', byComment, expireAt)
if commenter == owner then return {'applied', 0} end
local home = P .. 'home:' .. owner
redis.call('ZADD', home, score, id)
trim(home, keep, minScore)
return {'applied', 1}
`);

/**
 * post.deleted, or a post back to draft. ARGV: prefix, post id, tombstone expiry. The tombstone
 * keeps a redelivered post.published or a late comment.created of the post from bringing it back.
 * Returns {outcome, entries removed}.
 */
export const REMOVE_POST = script(`
local post, tombstoneUntil = ARGV[2], ARGV[3]
local gone = P .. 'gone:post:' .. post
redis.call('SET', gone, '1')
redis.call('PEXPIREAT', gone, tombstoneUntil)
local index = P .. 'post:' .. post
local ids = redis.call('SMEMBERS', index)
local n = 0
for i = 1, #ids do n = n + removeEntry(ids[i], true) end
redis.call('DEL', index)
return {'applied', n}
`);

/** comment.deleted. ARGV: prefix, comment id, tombstone expiry. Returns {outcome, entries removed}. */
export const REMOVE_COMMENT = script(`
local comment, tombstoneUntil = ARGV[2], ARGV[3]
local gone = P .. 'gone:comment:' .. comment
redis.call('SET', gone, '1')
redis.call('PEXPIREAT', gone, tombstoneUntil)
local id = redis.call('GET', P .. 'comment:' .. comment)
local n = 0
if id then n = removeEntry(id, true) end
redis.call('DEL', P .. 'comment:' .. comment)
return {'applied', n}
`);

/**
 * user.deleted, first step. ARGV: prefix, user id. Marks the user deleted for good (no later or
 * replayed event of theirs, or about them, is applied), removes their entries (posts, comments, and
 * the comments of others on their posts) and their own lists. Their follow sets are taken apart
 * afterwards in chunks (FeedStore.detachUser). Returns {outcome, entries removed}.
 */
export const ERASE_USER = script(`
local u = ARGV[2]
redis.call('SADD', P .. 'deleted-users', u)
local ids = redis.call('ZRANGE', P .. 'by:' .. u, 0, -1)
local n = 0
for i = 1, #ids do
  local json = redis.call('GET', P .. 'entry:' .. ids[i])
  if json then
    local e = cjson.decode(json)
    if e.kind == 'post' then
      local index = P .. 'post:' .. e.post_id
      local about = redis.call('SMEMBERS', index)
      for j = 1, #about do n = n + removeEntry(about[j], false) end
      redis.call('DEL', index)
    end
    n = n + removeEntry(ids[i], false)
  end
end
redis.call('DEL', P .. 'by:' .. u, P .. 'timeline:' .. u, P .. 'home:' .. u, P .. 'follow-version:' .. u)
redis.call('SREM', P .. 'big', u)
return {'applied', n}
`);

/**
 * A page of one list after a position, newest first by (score, member). ARGV: prefix (unused),
 * key, max score ('+inf' or the position's), the position's member ('' for none), min score,
 * count. Returns a flat [member, score, …].
 */
export const READ_AFTER = script(`
local key, max, after, min, count = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
if after == '' then return redis.call('ZREVRANGEBYSCORE', key, max, min, 'WITHSCORES', 'LIMIT', 0, count) end
local same = redis.call('ZCOUNT', key, max, max)
local items = redis.call('ZREVRANGEBYSCORE', key, max, min, 'WITHSCORES', 'LIMIT', 0, count + same)
local top = tonumber(max)
local out = {}
for i = 1, #items, 2 do
  if #out >= count * 2 then break end
  if tonumber(items[i + 1]) < top or before(items[i], after) then
    out[#out + 1] = items[i]
    out[#out + 1] = items[i + 1]
  end
end
return out
`);

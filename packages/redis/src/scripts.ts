import { createHash } from 'node:crypto'
import type { RedisConnection } from './connection'

/** A Lua script run by `EVALSHA`, loaded with `EVAL` the first time a server does not know it (a restart flushes the cache). */
export interface Script {
  readonly source: string
  readonly sha: string
}

export function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

export async function runScript<T>(client: RedisConnection, script: Script, keys: readonly string[], args: readonly string[]): Promise<T> {
  // node-redis queues commands while it reconnects, for as long as Redis is away: a caller must fail now instead (and may retry).
  if (!client.isReady) throw new Error('The Redis client is not connected')
  try {
    return await client.sendCommand<T>(['EVALSHA', script.sha, String(keys.length), ...keys, ...args])
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return client.sendCommand<T>(['EVAL', script.source, String(keys.length), ...keys, ...args])
  }
}

// Stream ids compared in Lua: "ms-seq", both parts below 2^53 here.
const COMPARE = `
local function before(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
  return ams < bms or (ams == bms and aseq < bseq)
end
`

/**
 * Publish: the epoch set if absent, the event counted, appended with
 * `MAXLEN ~`, and every key's expiry pushed back, in one atomic step, so
 * no reader ever sees an event without its epoch and count. The entry
 * carries its epoch (`e`), so a reader that followed the stream from
 * before it expired and began again tells the new stream from the old.
 * KEYS: stream, meta. ARGV: epoch if new, history, ttl ms, fields.
 * Returns { epoch, id }.
 */
export const PUBLISH = script(`
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[2], 'e', epoch)
end
local history = tonumber(ARGV[2])
redis.call('HSET', KEYS[2], 'h', history)
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local keep = history
if keep < 1 then keep = 1 end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', keep, '*', 'n', n, 'd', ARGV[4], 'e', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return { epoch, id }
`)

/**
 * Where a tail starts: the epoch (set if absent, so ids are never made
 * without one), the newest id ("0-0" for none) and the count of events.
 * KEYS: stream, meta. ARGV: epoch if new, ttl ms.
 * Returns { epoch, lastId, n }.
 */
export const POSITION = script(`
local epoch = redis.call('HGET', KEYS[2], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[2], 'e', epoch, 'n', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
local n = redis.call('HGET', KEYS[2], 'n') or '0'
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local lastId = '0-0'
if #last > 0 then lastId = last[1][1] end
return { epoch, lastId, n }
`)

/**
 * The resume rule, decided atomically, and the first page:
 * - stream missing or another epoch → stream-reset ("0-0", before the first
 *   event, is fine on an empty stream and replays from the first event
 *   while it is kept);
 * - an id after the newest, or within the stream's range but not in it (a
 *   write lost in a failover, the promoted replica writing on since) →
 *   position-lost;
 * - an id no longer kept, or further back than the history publishers
 *   keep → trimmed;
 * - more than maxReplay behind → too-far-behind; else the events after it.
 * KEYS: stream, meta. ARGV: epoch, id, page size, maxReplay.
 * Returns { 'ok', entries } or { reason }.
 */
export const READ = script(`${COMPARE}
local epoch = redis.call('HGET', KEYS[2], 'e')
if (not epoch) or epoch ~= ARGV[1] then return { 'stream-reset' } end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
-- "0-0" is the position before the first event: what a subscriber of an empty stream holds.
local origin = ARGV[2] == '0-0'
if #last == 0 then
  if origin then return { 'ok', {} } end
  return { 'stream-reset' }
end
local lastId = last[1][1]
if before(lastId, ARGV[2]) then return { 'position-lost' } end
if lastId == ARGV[2] then return { 'ok', {} } end
local count = 0
if origin then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if tonumber(first[1][2][2]) ~= 1 then return { 'trimmed' } end
else
  local at = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
  if #at == 0 then
    local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
    if #first > 0 and before(ARGV[2], first[1][1]) then return { 'trimmed' } end
    -- Within the stream's range yet not in it: a write lost in a failover (the promoted replica has newer ones since).
    return { 'position-lost' }
  end
  count = tonumber(at[1][2][2])
end
local behind = tonumber(last[1][2][2]) - count
if behind > tonumber(redis.call('HGET', KEYS[2], 'h') or '0') then return { 'trimmed' } end
if behind > tonumber(ARGV[4]) then return { 'too-far-behind' } end
if origin then return { 'ok', redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[3]) } end
return { 'ok', redis.call('XRANGE', KEYS[1], '(' .. ARGV[2], '+', 'COUNT', ARGV[3]) }
`)

// Milliseconds on Redis's clock, so the lease of a run is judged by one clock whatever node looks.
const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`

/**
 * Claims an idempotency key: a new record `running` with a lease, or what
 * the existing one says (its outcome, another input, a run whose lease ran
 * out, a run still going).
 * KEYS: record. ARGV: fingerprint, lease ms, ttl ms.
 * Returns { 'run' } | { 'done', kind, fields } | { 'conflict' } | { 'lost' } | { 'running' }.
 */
export const CLAIM = script(`${NOW}
local state = redis.call('HGET', KEYS[1], 's')
if not state then
  redis.call('HSET', KEYS[1], 's', 'running', 'f', ARGV[1], 'l', now + tonumber(ARGV[2]))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return { 'run' }
end
if redis.call('HGET', KEYS[1], 'f') ~= ARGV[1] then return { 'conflict' } end
if state == 'done' then return { 'done', redis.call('HGET', KEYS[1], 'k'), redis.call('HGET', KEYS[1], 'v') } end
if tonumber(redis.call('HGET', KEYS[1], 'l')) < now then return { 'lost' } end
return { 'running' }
`)

/** Extends a running record's lease. KEYS: record. ARGV: lease ms. */
export const RENEW = script(`${NOW}
if redis.call('HGET', KEYS[1], 's') == 'running' then
  redis.call('HSET', KEYS[1], 'l', now + tonumber(ARGV[1]))
end
return 1
`)

-- Release one attempt's reservation, and remember it was released (so a repair never restores it).
-- Answers a ReleaseResult code: 1 released, 0 nothing held (a repeat), -3 held by another attempt (a stale release
-- is refused). Counters never go below zero.
local used, jobs, released = @used, @jobs, @released
local job, attempt = @jobId, @attempt
local held = redis.call('HGET', jobs, job)
if not held then return 0 end
local holder, cpus, mem, gpus = record_parse(held)
if holder ~= attempt then return -3 end
local fields = { 'cpus', 'memoryMb', 'gpus', 'jobs' }
local amounts = { cpus, mem, gpus, 1 }
for i = 1, 4 do
  -- 0 - x, not -x: Lua prints -0 as "-0", which HINCRBY refuses.
  if redis.call('HINCRBY', used, fields[i], 0 - amounts[i]) < 0 then
    redis.call('HSET', used, fields[i], 0)
  end
end
redis.call('HDEL', jobs, job)
redis.call('ZADD', released, redis.call('TIME')[1], job .. ':' .. attempt)
return 1

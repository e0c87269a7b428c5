-- Repair one worker's reservations from the database's truth, then recount its counters from its reservations.
-- restore: the records to put back (a line per job); remove: "jobId attempt" lines to take out. Answers how many
-- counters were wrong. An attempt the worker released is never restored: its allocation row is only late. Release
-- marks older than a day are dropped here. Atomic, so it cannot interleave with a reservation in flight.
local used, jobs, released = @used, @jobs, @released
for job, record in records_in(@restore) do
  if not redis.call('ZSCORE', released, job .. ':' .. record_attempt(record)) then
    redis.call('HSETNX', jobs, job, record)
  end
end
redis.call('ZREMRANGEBYSCORE', released, '-inf', redis.call('TIME')[1] - 86400)
for job, attempt in records_in(@remove) do
  local held = redis.call('HGET', jobs, job)
  if held and record_attempt(held) == attempt then redis.call('HDEL', jobs, job) end
end
return recount(used, jobs)

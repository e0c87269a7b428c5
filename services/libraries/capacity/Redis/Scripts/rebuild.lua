-- Rebuild one worker's reservations from the database's truth and stamp its counters with an epoch. truth: every
-- unreleased allocation row of the worker, as records (a line per job). Afterwards Redis holds exactly those (less
-- the ones the worker has released and the database has not heard of yet), so a reservation taken in Redis but not
-- yet recorded is dropped: its record is refused by the new epoch. A kept reservation Redis still holds keeps its
-- bound GPU ids, which the database does not know. Answers how many counters were wrong.
local used, jobs, released = @used, @jobs, @released
local keep = {}
for job, record in records_in(@truth) do
  local attempt = record_attempt(record)
  if not redis.call('ZSCORE', released, job .. ':' .. attempt) then
    local old = redis.call('HGET', jobs, job)
    if old and record_attempt(old) == attempt then keep[job] = old else keep[job] = record end
  end
end
redis.call('DEL', jobs)
for job, record in pairs(keep) do redis.call('HSET', jobs, job, record) end
redis.call('HSET', used, 'epoch', @epoch)
return recount(used, jobs)

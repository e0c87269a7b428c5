-- Reserve resources and a job slot on one worker for one attempt, all or nothing.
-- Answers { ReservationResult code, epoch of the used counters it checked (absent if never rebuilt) }.
-- Repeating a reservation of the same attempt changes nothing. When the worker registered GPU device ids, the
-- reservation takes that many ids no other reservation of the worker holds, in the same step, and keeps them in its record.
local info, used, jobs, released = @info, @used, @jobs, @released
local job, attempt = @jobId, @attempt
local epoch = redis.call('HGET', used, 'epoch')
local held = redis.call('HGET', jobs, job)
if held then
  if record_attempt(held) == attempt then return { 2, epoch } end
  return { -3 }
end
-- Released here already: the attempt ran and ended (or was given back), and this is a late try, say of a second
-- scheduler's placement that read the job as still pending. Holding it again would hold it for ever.
if redis.call('ZSCORE', released, job .. ':' .. attempt) then return { -4 } end
local cap = redis.call('HMGET', info, 'cpus', 'memoryMb', 'gpus', 'maxJobs', 'status', 'gpuDevices')
if not cap[1] then return { -1 } end
if cap[5] ~= 'ready' then return { -2 } end
local want = { tonumber(@cpus), tonumber(@memoryMb), tonumber(@gpus), 1 }
local fields = { 'cpus', 'memoryMb', 'gpus', 'jobs' }
local counted = redis.call('HMGET', used, 'cpus', 'memoryMb', 'gpus', 'jobs')
for i = 1, 4 do
  if (tonumber(counted[i]) or 0) + want[i] > (tonumber(cap[i]) or 0) then return { 0 } end
end
local chosen = {}
if want[3] > 0 and cap[6] and cap[6] ~= '' then
  local taken = {}
  for _, other in ipairs(redis.call('HVALS', jobs)) do
    local _, _, _, _, ids = record_parse(other)
    if ids then for id in string.gmatch(ids, '[^,]+') do taken[id] = true end end
  end
  for id in string.gmatch(cap[6], '[^,]+') do
    if #chosen < want[3] and not taken[id] then chosen[#chosen + 1] = id end
  end
  if #chosen < want[3] then return { 0 } end
end
for i = 1, 4 do redis.call('HINCRBY', used, fields[i], want[i]) end
redis.call('HSET', jobs, job, record_format(attempt, want[1], want[2], want[3], table.concat(chosen, ',')))
return { 1, epoch }

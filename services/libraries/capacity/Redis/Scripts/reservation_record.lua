-- The reservation record, as a worker's jobs hash holds it per job id: "attempt cpus memoryMb gpus", then, when the
-- reservation bound GPU devices, a fifth field with their ids ("0,1"). Ledger/ReservationRecord.cs is its C# side;
-- the two change together. Prepended to every script that reads or writes a record.
local function record_attempt(record)
  return string.match(record, '^%d+')
end

local function record_parse(record)
  local attempt, cpus, mem, gpus, ids = string.match(record, '^(%d+) (%d+) (%d+) (%d+) ?(%S*)$')
  return attempt, tonumber(cpus), tonumber(mem), tonumber(gpus), ids
end

local function record_format(attempt, cpus, mem, gpus, ids)
  local record = attempt .. ' ' .. cpus .. ' ' .. mem .. ' ' .. gpus
  if ids and ids ~= '' then record = record .. ' ' .. ids end
  return record
end

-- A list of records as the C# side sends one: a line per job, "jobId record".
local function records_in(list)
  return string.gmatch(list, '([^ \n]+) ([^\n]+)')
end

-- Sets the used counters from the records held, and answers how many counters were wrong.
local function recount(used, jobs)
  local totals = { 0, 0, 0, 0 }
  for _, held in ipairs(redis.call('HVALS', jobs)) do
    local _, cpus, mem, gpus = record_parse(held)
    totals[1] = totals[1] + cpus
    totals[2] = totals[2] + mem
    totals[3] = totals[3] + gpus
    totals[4] = totals[4] + 1
  end
  local fields = { 'cpus', 'memoryMb', 'gpus', 'jobs' }
  local current = redis.call('HMGET', used, 'cpus', 'memoryMb', 'gpus', 'jobs')
  local wrong = 0
  for k = 1, 4 do
    if (tonumber(current[k]) or 0) ~= totals[k] then wrong = wrong + 1 end
    redis.call('HSET', used, fields[k], totals[k])
  end
  return wrong
end

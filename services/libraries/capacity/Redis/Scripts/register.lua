-- Write a worker's whole registration and (re)arm its TTL. Writing everything each heartbeat means a registration
-- that expired during a pause comes back whole. With requireRebuilt = 1, a worker whose counters were never rebuilt
-- from the database (a Redis that restarted empty) is not registered and 0 is answered: nothing can be reserved on
-- it until the caller has rebuilt them, so a Redis that lost its counters never hands out capacity twice. Answers 1
-- when registered.
local info, used = @info, @used
if @requireRebuilt == '1' and redis.call('HEXISTS', used, 'epoch') == 0 then return 0 end
redis.call('DEL', info)
redis.call('HSET', info,
  'cpus', @cpus, 'memoryMb', @memoryMb, 'gpus', @gpus, 'maxJobs', @maxJobs,
  'services', @services, 'languages', @languages, 'status', @status, 'gpuDevices', @gpuDevices,
  'enforcement', @enforcement, 'heartbeatAt', @heartbeatAt)
redis.call('PEXPIRE', info, tonumber(@ttlMs))
return 1

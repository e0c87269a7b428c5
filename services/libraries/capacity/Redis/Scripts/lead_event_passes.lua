-- The event-pass lease: taken when free, renewed when this instance holds it. Answers -1 when the caller leads, else
-- how many ms the other instance's lease has left. One key, so it runs on a Redis Cluster.
local key = @key
if redis.call('SET', key, @instance, 'NX', 'PX', tonumber(@ttlMs)) then return -1 end
if redis.call('GET', key) == @instance then
  redis.call('PEXPIRE', key, tonumber(@ttlMs))
  return -1
end
local left = redis.call('PTTL', key)
if left < 0 then left = 0 end
return left

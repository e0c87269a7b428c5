-- Claims pending jobs for one event pass, across scheduler instances: a job any instance offered within the cooldown
-- is left out, the others are marked offered now and answered. One key (a sorted set of job ids scored by when they
-- were offered, unix ms, on Redis's own clock so instances on other hosts agree), so it runs on a Redis Cluster.
local key = @key
local cooldown = tonumber(@cooldownMs)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (now - cooldown))
local claimed = {}
for id in string.gmatch(@ids, '[^,]+') do
  if not redis.call('ZSCORE', key, id) then
    redis.call('ZADD', key, now, id)
    claimed[#claimed + 1] = id
  end
end
-- Gone by itself once no pass has offered anything for a while.
redis.call('PEXPIRE', key, cooldown * 2)
return claimed

-- SET NX PX on one (worker, service) key, answering how long the window has left when the key already exists: one
-- round trip, one key, so it runs on a Redis Cluster. Answers { 1 } when this report opened the window, else
-- { 0, remaining ms } (0 for a key with no expiry, which is never written).
local key = @key
if redis.call('SET', key, @reason, 'NX', 'PX', tonumber(@ttlMs)) then return { 1 } end
local left = redis.call('PTTL', key)
if left < 0 then left = 0 end
return { 0, left }

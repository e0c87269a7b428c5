namespace Bus.Infrastructure.Redis;

/// <summary>
/// The Lua scripts behind reservation and registration. Each touches only the keys of one worker,
/// which share a hash tag, so each runs unchanged on a Redis Cluster.
/// StackExchange.Redis caches each script's SHA and answers NOSCRIPT by sending the text again.
/// </summary>
internal static class LuaScripts
{
    /// <summary>
    /// Reserve resources and a job slot on one worker, all or nothing.
    /// KEYS: info, used, jobs. ARGV: jobId, attempt, cpus, memoryMb, gpus.
    /// Returns { <see cref="ReservationResult"/> code, epoch of the counters it read (absent if never rebuilt) }.
    /// Repeating a reservation of the same attempt changes nothing. GPUs are bound here too: when the worker
    /// registered its device ids, the reservation takes that many ids no other reservation of the worker holds,
    /// in the same step, and keeps them as a fifth field ("attempt cpus memoryMb gpus id,id").
    /// </summary>
    public const string Reserve = """
        local epoch = redis.call('HGET', KEYS[2], 'epoch')
        local held = redis.call('HGET', KEYS[3], ARGV[1])
        if held then
          if string.match(held, '^%d+') == ARGV[2] then return { 2, epoch } end
          return { -3 }
        end
        local cap = redis.call('HMGET', KEYS[1], 'cpus', 'memoryMb', 'gpus', 'maxJobs', 'status', 'gpuDevices')
        if not cap[1] then return { -1 } end
        if cap[5] ~= 'ready' then return { -2 } end
        local want = { tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), 1 }
        local fields = { 'cpus', 'memoryMb', 'gpus', 'jobs' }
        local used = redis.call('HMGET', KEYS[2], 'cpus', 'memoryMb', 'gpus', 'jobs')
        for i = 1, 4 do
          if (tonumber(used[i]) or 0) + want[i] > (tonumber(cap[i]) or 0) then return { 0 } end
        end
        local held = ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5]
        if want[3] > 0 and cap[6] and cap[6] ~= '' then
          local taken = {}
          for _, other in ipairs(redis.call('HVALS', KEYS[3])) do
            local ids = string.match(other, '^%d+ %d+ %d+ %d+ (%S+)$')
            if ids then for id in string.gmatch(ids, '[^,]+') do taken[id] = true end end
          end
          local chosen = {}
          for id in string.gmatch(cap[6], '[^,]+') do
            if #chosen < want[3] and not taken[id] then chosen[#chosen + 1] = id end
          end
          if #chosen < want[3] then return { 0 } end
          held = held .. ' ' .. table.concat(chosen, ',')
        end
        for i = 1, 4 do redis.call('HINCRBY', KEYS[2], fields[i], want[i]) end
        redis.call('HSET', KEYS[3], ARGV[1], held)
        return { 1, epoch }
        """;

    /// <summary>
    /// Release one job's reservation, and remember it was released. KEYS: used, jobs, released. ARGV: jobId, attempt.
    /// Returns 1 released, 0 nothing held (a repeat), -3 held by another attempt (a stale release is refused).
    /// Counters never go below zero.
    /// </summary>
    public const string Release = """
        local held = redis.call('HGET', KEYS[2], ARGV[1])
        if not held then return 0 end
        local attempt, cpus, mem, gpus = string.match(held, '^(%d+) (%d+) (%d+) (%d+)')
        if attempt ~= ARGV[2] then return -3 end
        local fields = { 'cpus', 'memoryMb', 'gpus', 'jobs' }
        local amounts = { tonumber(cpus), tonumber(mem), tonumber(gpus), 1 }
        for i = 1, 4 do
          -- 0 - x, not -x: Lua prints -0 as "-0", which HINCRBY refuses.
          if redis.call('HINCRBY', KEYS[1], fields[i], 0 - amounts[i]) < 0 then
            redis.call('HSET', KEYS[1], fields[i], 0)
          end
        end
        redis.call('HDEL', KEYS[2], ARGV[1])
        redis.call('ZADD', KEYS[3], redis.call('TIME')[1], ARGV[1] .. ':' .. ARGV[2])
        return 1
        """;

    /// <summary>
    /// Write a worker's whole registration and (re)arm its TTL. KEYS: info, used. ARGV: ttl in ms, 1 to require
    /// rebuilt counters (else 0), then field/value pairs. Writing everything each heartbeat means a registration that
    /// expired during a pause comes back whole. With the requirement, a worker whose counters were never rebuilt from
    /// the database (a Redis that restarted empty) is not registered and 0 is returned: nothing can be reserved on it
    /// until the caller has rebuilt them, so a Redis that lost its counters never hands out capacity twice.
    /// </summary>
    public const string Register = """
        if ARGV[2] == '1' and redis.call('HEXISTS', KEYS[2], 'epoch') == 0 then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('HSET', KEYS[1], unpack(ARGV, 3))
        redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
        return 1
        """;

    /// <summary>
    /// Repair one worker's reservations from the database's truth, then recount its counters from its reservations.
    /// KEYS: used, jobs, released. ARGV: n, then n pairs (jobId, "attempt cpus memoryMb gpus") to restore,
    /// then pairs (jobId, attempt) to remove. Returns how many counters were wrong. An attempt the worker released
    /// is never restored: its allocation row is only late. Release marks older than a day are dropped here.
    /// Atomic, so it cannot interleave with a reservation in flight.
    /// </summary>
    public const string Repair = """
        local n = tonumber(ARGV[1])
        local i = 2
        for _ = 1, n do
          local attempt = string.match(ARGV[i + 1], '^%d+')
          if not redis.call('ZSCORE', KEYS[3], ARGV[i] .. ':' .. attempt) then
            redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
          end
          i = i + 2
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', redis.call('TIME')[1] - 86400)
        while i <= #ARGV do
          local held = redis.call('HGET', KEYS[2], ARGV[i])
          if held and string.match(held, '^%d+') == ARGV[i + 1] then redis.call('HDEL', KEYS[2], ARGV[i]) end
          i = i + 2
        end
        """ + RecountAndReturnWrong;

    /// <summary>
    /// Rebuild one worker's reservations from the database's truth and stamp them with an epoch. KEYS: used, jobs,
    /// released. ARGV: epoch, n, then n pairs (jobId, "attempt cpus memoryMb gpus"): every unreleased allocation row
    /// of the worker. Afterwards Redis holds exactly those (less the ones the worker has released and the database
    /// has not heard of yet), so a reservation taken in Redis but not yet recorded is dropped: its record is refused
    /// by the new epoch. A kept reservation Redis still holds keeps its bound GPU ids, which the database does not
    /// know. Returns how many counters were wrong.
    /// </summary>
    public const string Rebuild = """
        local keep = {}
        local i = 3
        for _ = 1, tonumber(ARGV[2]) do
          local attempt = string.match(ARGV[i + 1], '^%d+')
          if not redis.call('ZSCORE', KEYS[3], ARGV[i] .. ':' .. attempt) then
            local old = redis.call('HGET', KEYS[2], ARGV[i])
            if old and string.match(old, '^%d+') == attempt then keep[ARGV[i]] = old else keep[ARGV[i]] = ARGV[i + 1] end
          end
          i = i + 2
        end
        redis.call('DEL', KEYS[2])
        for job, held in pairs(keep) do redis.call('HSET', KEYS[2], job, held) end
        redis.call('HSET', KEYS[1], 'epoch', ARGV[1])
        """ + RecountAndReturnWrong;

    /// <summary>The end of Repair and Rebuild: set the counters (KEYS[1]) from the reservations (KEYS[2]).</summary>
    const string RecountAndReturnWrong = """

        local totals = { 0, 0, 0, 0 }
        for _, held in ipairs(redis.call('HVALS', KEYS[2])) do
          local _, cpus, mem, gpus = string.match(held, '^(%d+) (%d+) (%d+) (%d+)')
          totals[1] = totals[1] + tonumber(cpus)
          totals[2] = totals[2] + tonumber(mem)
          totals[3] = totals[3] + tonumber(gpus)
          totals[4] = totals[4] + 1
        end
        local fields = { 'cpus', 'memoryMb', 'gpus', 'jobs' }
        local current = redis.call('HMGET', KEYS[1], 'cpus', 'memoryMb', 'gpus', 'jobs')
        local wrong = 0
        for k = 1, 4 do
          if (tonumber(current[k]) or 0) ~= totals[k] then wrong = wrong + 1 end
          redis.call('HSET', KEYS[1], fields[k], totals[k])
        end
        return wrong
        """;
}

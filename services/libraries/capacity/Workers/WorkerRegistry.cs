using System.Globalization;
using Bus.Capacity.Redis;
using Bus.Contracts;
using StackExchange.Redis;

namespace Bus.Capacity.Workers;

/// <summary>
/// Live workers in Redis. A registration expires by itself unless heartbeats refresh it, so a
/// dead worker drops out of capacity with nobody's help. Total capacity is the sum over live workers.
/// </summary>
public sealed class WorkerRegistry(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider clock)
{
    readonly IDatabase _db = redis.GetDatabase();

    /// <summary>
    /// Registers or refreshes a worker for <paramref name="ttl"/>. With <paramref name="requireRebuiltCounters"/> (what a
    /// real worker uses, through <c>WorkerPresence</c>), nothing is written and false is returned while the worker's
    /// counters have not been rebuilt from the database since Redis last lost them; without it (tools and tests whose
    /// allocations live only in Redis), the worker is always registered.
    /// </summary>
    public async Task<bool> Register(WorkerRegistration worker, TimeSpan ttl, bool requireRebuiltCounters = false)
    {
        var now = clock.GetUtcNow();
        var written = (int)await LuaScripts.Register.EvaluateAsync(_db, new
        {
            info = keys.WorkerInfo(worker.WorkerId), used = keys.WorkerUsed(worker.WorkerId),
            ttlMs = (long)ttl.TotalMilliseconds,
            requireRebuilt = requireRebuiltCounters ? 1 : 0,
            cpus = worker.Capacity.Cpus,
            memoryMb = worker.Capacity.MemoryMb,
            gpus = worker.Capacity.Gpus,
            maxJobs = worker.MaxConcurrentJobs,
            services = string.Join(',', worker.Services),
            languages = string.Join(',', worker.Languages),
            status = worker.Status,
            gpuDevices = string.Join(',', worker.GpuDevices ?? []),
            enforcement = worker.Enforcement ?? "",
            heartbeatAt = now.ToUnixTimeMilliseconds(),
        });
        if (written == 0) // register.lua's reply: 0 refused (counters not rebuilt), 1 written
            return false;
        // The index lives in another slot, so it is a second command. Its score is the expiry; readers
        // treat a stale score as gone, so the order of these two writes does not matter.
        await _db.SortedSetAddAsync(keys.LiveWorkers, worker.WorkerId, (now + ttl).ToUnixTimeMilliseconds());
        return true;
    }

    /// <summary>Removes a worker's registration on a clean stop. Its reservations stay until released.</summary>
    public async Task Unregister(string workerId)
    {
        await _db.KeyDeleteAsync(keys.WorkerInfo(workerId));
        await _db.SortedSetRemoveAsync(keys.LiveWorkers, workerId);
    }

    /// <summary>Every worker whose registration has not expired, with what is allocated on it.</summary>
    public async Task<IReadOnlyList<WorkerSnapshot>> ListLive()
    {
        var nowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        // Drop index entries whose registration has expired; cheap, and keeps the index small.
        await _db.SortedSetRemoveRangeByScoreAsync(keys.LiveWorkers, double.NegativeInfinity, nowMs, Exclude.Stop);
        var ids = await _db.SortedSetRangeByScoreAsync(keys.LiveWorkers, nowMs, double.PositiveInfinity);

        var reads = ids.Select(id => Read(id.ToString())).ToArray();
        var snapshots = await Task.WhenAll(reads);
        return snapshots.OfType<WorkerSnapshot>().ToList();
    }

    /// <summary>One worker, or null when its registration has expired.</summary>
    public async Task<WorkerSnapshot?> Read(string workerId)
    {
        var infoTask = _db.HashGetAllAsync(keys.WorkerInfo(workerId));
        var usedTask = _db.HashGetAllAsync(keys.WorkerUsed(workerId));
        var info = (await infoTask).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        var used = (await usedTask).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString());
        if (info.Count == 0)
            return null;

        var registration = new WorkerRegistration(
            workerId,
            new ResourceVector(Int(info, "cpus"), Int(info, "memoryMb"), Int(info, "gpus")),
            Int(info, "maxJobs"),
            Split(info, "services"),
            Split(info, "languages"),
            info.GetValueOrDefault("status", WorkerStatus.Ready),
            Split(info, "gpuDevices"),
            info.GetValueOrDefault("enforcement") is { Length: > 0 } enforcement ? enforcement : null);
        return new WorkerSnapshot(
            registration,
            new ResourceVector(Int(used, "cpus"), Int(used, "memoryMb"), Int(used, "gpus")),
            Int(used, "jobs"),
            DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(info.GetValueOrDefault("heartbeatAt", "0"), CultureInfo.InvariantCulture)));
    }

    static int Int(Dictionary<string, string> hash, string field) =>
        hash.TryGetValue(field, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : 0;

    static string[] Split(Dictionary<string, string> hash, string field) =>
        hash.GetValueOrDefault(field, "").Split(',', StringSplitOptions.RemoveEmptyEntries);
}

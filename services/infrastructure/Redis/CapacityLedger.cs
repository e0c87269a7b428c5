using System.Globalization;
using Bus.Contracts;
using StackExchange.Redis;

namespace Bus.Infrastructure.Redis;

/// <summary>A job attempt's reservation as Redis holds it.</summary>
public sealed record Reservation(Guid JobId, int Attempt, ResourceVector Resources);

/// <summary>
/// The hot counters (R3, R8, R10): per-worker reservations taken and given back by Lua scripts, each
/// over one worker's hash-tagged keys. There is no cluster-wide counter: totals are sums over workers.
/// </summary>
public sealed class CapacityLedger(IConnectionMultiplexer redis, RedisKeys keys)
{
    readonly IDatabase _db = redis.GetDatabase();

    /// <summary>Takes the resources and one job slot on a worker for one attempt, all or nothing.</summary>
    public async Task<ReservationResult> Reserve(string workerId, Guid jobId, int attempt, ResourceVector resources)
    {
        var result = await _db.ScriptEvaluateAsync(
            LuaScripts.Reserve,
            [keys.WorkerInfo(workerId), keys.WorkerUsed(workerId), keys.WorkerJobs(workerId)],
            [jobId.ToString(), attempt, resources.Cpus, resources.MemoryMb, resources.Gpus]);
        return (ReservationResult)(int)result;
    }

    /// <summary>
    /// Gives back one attempt's reservation. True when it was released now; false when there was nothing
    /// to release (a repeat) or another attempt holds it (a stale caller is refused).
    /// </summary>
    public async Task<bool> Release(string workerId, Guid jobId, int attempt)
    {
        var result = await _db.ScriptEvaluateAsync(
            LuaScripts.Release,
            [keys.WorkerUsed(workerId), keys.WorkerJobs(workerId), keys.WorkerReleased(workerId)],
            [jobId.ToString(), attempt]);
        return (int)result == 1;
    }

    /// <summary>
    /// Whether this attempt holds a reservation on the worker. A worker checks it before starting an attempt, so a
    /// RunJob for an attempt the scheduler has since replaced (its reservation released) never runs.
    /// </summary>
    public async Task<bool> Holds(string workerId, Guid jobId, int attempt)
    {
        var held = await _db.HashGetAsync(keys.WorkerJobs(workerId), jobId.ToString());
        return held.HasValue && held.ToString().Split(' ')[0] == attempt.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The reservations Redis holds for one worker.</summary>
    public async Task<IReadOnlyList<Reservation>> Reservations(string workerId)
    {
        var entries = await _db.HashGetAllAsync(keys.WorkerJobs(workerId));
        return entries.Select(e =>
        {
            var parts = e.Value.ToString().Split(' ').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return new Reservation(Guid.Parse(e.Name.ToString()), parts[0], new ResourceVector(parts[1], parts[2], parts[3]));
        }).ToList();
    }

    /// <summary>
    /// Brings one worker's reservations in line with the database: restores <paramref name="restore"/>, removes
    /// <paramref name="remove"/>, and recounts the counters. Returns how many counters were wrong.
    /// </summary>
    public async Task<int> Repair(string workerId, IReadOnlyCollection<Reservation> restore, IReadOnlyCollection<Reservation> remove)
    {
        var args = new List<RedisValue> { restore.Count };
        foreach (var r in restore)
        {
            args.Add(r.JobId.ToString());
            args.Add($"{r.Attempt} {r.Resources.Cpus} {r.Resources.MemoryMb} {r.Resources.Gpus}");
        }
        foreach (var r in remove)
        {
            args.Add(r.JobId.ToString());
            args.Add(r.Attempt);
        }
        var result = await _db.ScriptEvaluateAsync(LuaScripts.Repair,
            [keys.WorkerUsed(workerId), keys.WorkerJobs(workerId), keys.WorkerReleased(workerId)], args.ToArray());
        return (int)result;
    }
}

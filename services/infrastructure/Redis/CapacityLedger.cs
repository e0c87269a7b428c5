using System.Globalization;
using Bus.Contracts;
using StackExchange.Redis;

namespace Bus.Infrastructure.Redis;

/// <summary>A job attempt's reservation as Redis holds it.</summary>
public sealed record Reservation(Guid JobId, int Attempt, ResourceVector Resources);

/// <summary>
/// What a reservation did, and the epoch of the worker's counters it was checked against (null when they were never
/// rebuilt from the database). The allocation row is recorded only if that epoch is still the worker's current one.
/// </summary>
public sealed record ReservationOutcome(ReservationResult Result, long? Epoch)
{
    public bool Holds => Result is ReservationResult.Reserved or ReservationResult.AlreadyHeld;
}

/// <summary>
/// The hot counters: per-worker reservations taken and given back by Lua scripts, each
/// over one worker's hash-tagged keys. There is no cluster-wide counter: totals are sums over workers.
/// </summary>
public sealed class CapacityLedger(IConnectionMultiplexer redis, RedisKeys keys)
{
    readonly IDatabase _db = redis.GetDatabase();

    /// <summary>Takes the resources and one job slot on a worker for one attempt, all or nothing.</summary>
    public async Task<ReservationResult> Reserve(string workerId, Guid jobId, int attempt, ResourceVector resources) =>
        (await ReserveWithEpoch(workerId, jobId, attempt, resources)).Result;

    /// <summary>As <see cref="Reserve"/>, with the epoch of the counters the reservation was checked against.</summary>
    public async Task<ReservationOutcome> ReserveWithEpoch(string workerId, Guid jobId, int attempt, ResourceVector resources)
    {
        var reply = (RedisResult[])(await _db.ScriptEvaluateAsync(
            LuaScripts.Reserve,
            [keys.WorkerInfo(workerId), keys.WorkerUsed(workerId), keys.WorkerJobs(workerId)],
            [jobId.ToString(), attempt, resources.Cpus, resources.MemoryMb, resources.Gpus]))!;
        var epoch = reply.Length > 1 && !reply[1].IsNull ? (long?)reply[1] : null;
        return new ReservationOutcome((ReservationResult)(int)reply[0], epoch);
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
    /// The GPU device ids the reservation of this attempt bound, or null when Redis holds no reservation of it or one
    /// without ids (restored from the database, which keeps only counts).
    /// </summary>
    public async Task<string[]?> BoundGpus(string workerId, Guid jobId, int attempt)
    {
        var held = (string?)await _db.HashGetAsync(keys.WorkerJobs(workerId), jobId.ToString());
        var parts = held?.Split(' ');
        return parts is { Length: 5 } && parts[0] == attempt.ToString(CultureInfo.InvariantCulture)
            ? parts[4].Split(',', StringSplitOptions.RemoveEmptyEntries)
            : null;
    }

    /// <summary>The reservations Redis holds for one worker.</summary>
    public async Task<IReadOnlyList<Reservation>> Reservations(string workerId)
    {
        var entries = await _db.HashGetAllAsync(keys.WorkerJobs(workerId));
        return entries.Select(e =>
        {
            var parts = e.Value.ToString().Split(' ').Take(4).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
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
        AddHeld(args, restore);
        foreach (var r in remove)
        {
            args.Add(r.JobId.ToString());
            args.Add(r.Attempt);
        }
        var result = await _db.ScriptEvaluateAsync(LuaScripts.Repair,
            [keys.WorkerUsed(workerId), keys.WorkerJobs(workerId), keys.WorkerReleased(workerId)], args.ToArray());
        return (int)result;
    }

    /// <summary>
    /// Replaces one worker's reservations with <paramref name="truth"/> (its unreleased allocation rows) and stamps the
    /// counters with <paramref name="epoch"/>. Call it only under the worker's row lock (<c>LedgerRebuilder</c>), so no
    /// allocation is recorded against the old counters meanwhile. Returns how many counters were wrong.
    /// </summary>
    public async Task<int> Rebuild(string workerId, IReadOnlyCollection<Reservation> truth, long epoch)
    {
        var args = new List<RedisValue> { epoch, truth.Count };
        AddHeld(args, truth);
        var result = await _db.ScriptEvaluateAsync(LuaScripts.Rebuild,
            [keys.WorkerUsed(workerId), keys.WorkerJobs(workerId), keys.WorkerReleased(workerId)], args.ToArray());
        return (int)result;
    }

    /// <summary>Adds reservations as the scripts take them: jobId, then "attempt cpus memoryMb gpus".</summary>
    static void AddHeld(List<RedisValue> args, IEnumerable<Reservation> reservations)
    {
        foreach (var r in reservations)
        {
            args.Add(r.JobId.ToString());
            args.Add($"{r.Attempt} {r.Resources.Cpus} {r.Resources.MemoryMb} {r.Resources.Gpus}");
        }
    }
}

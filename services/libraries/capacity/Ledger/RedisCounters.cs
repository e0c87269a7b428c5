using Bus.Capacity.Redis;
using Bus.Contracts;
using StackExchange.Redis;

namespace Bus.Capacity.Ledger;

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
/// The ledger's hot half: per-worker reservations taken and given back by Lua scripts, each one call over one
/// worker's hash-tagged keys. There is no cluster-wide counter: totals are sums over workers. It knows nothing of
/// PostgreSQL; <see cref="CapacityLedger"/> joins the two. Tools and tests that exercise the scripts alone use it directly.
/// </summary>
public sealed class RedisCounters(IConnectionMultiplexer redis, RedisKeys keys)
{
    readonly IDatabase _db = redis.GetDatabase();

    /// <summary>Takes the resources and one job slot on a worker for one attempt, all or nothing.</summary>
    public async Task<ReservationResult> Reserve(string workerId, Guid jobId, int attempt, ResourceVector resources) =>
        (await ReserveWithEpoch(workerId, jobId, attempt, resources)).Result;

    /// <summary>The epoch the worker's counters were last rebuilt with; null when they never were (or Redis lost them).</summary>
    public async Task<long?> Epoch(string workerId)
    {
        var epoch = await _db.HashGetAsync(keys.WorkerUsed(workerId), "epoch");
        return epoch.IsNull ? null : (long)epoch;
    }

    /// <summary>As <see cref="Reserve"/>, with the epoch of the counters the reservation was checked against.</summary>
    public async Task<ReservationOutcome> ReserveWithEpoch(string workerId, Guid jobId, int attempt, ResourceVector resources)
    {
        var reply = (RedisResult[])(await LuaScripts.Reserve.EvaluateAsync(_db, new
        {
            info = keys.WorkerInfo(workerId), used = keys.WorkerUsed(workerId), jobs = keys.WorkerJobs(workerId),
            released = keys.WorkerReleased(workerId),
            jobId = jobId.ToString(), attempt, cpus = resources.Cpus, memoryMb = resources.MemoryMb, gpus = resources.Gpus,
        }))!;
        var epoch = reply.Length > 1 && !reply[1].IsNull ? (long?)reply[1] : null;
        return new ReservationOutcome((ReservationResult)(int)reply[0], epoch);
    }

    /// <summary>Gives back one attempt's reservation; a repeat, or a stale attempt, changes nothing.</summary>
    public async Task<ReleaseResult> Release(string workerId, Guid jobId, int attempt) =>
        (ReleaseResult)(int)await LuaScripts.Release.EvaluateAsync(_db, new
        {
            used = keys.WorkerUsed(workerId), jobs = keys.WorkerJobs(workerId), released = keys.WorkerReleased(workerId),
            jobId = jobId.ToString(), attempt,
        });

    /// <summary>
    /// The GPU device ids the reservation of this attempt bound, or null when Redis holds no reservation of it or one
    /// without ids (restored from the database, which keeps only counts).
    /// </summary>
    public async Task<string[]?> BoundGpus(string workerId, Guid jobId, int attempt)
    {
        var held = await _db.HashGetAsync(keys.WorkerJobs(workerId), jobId.ToString());
        return held.HasValue && ReservationRecord.Parse(held.ToString()) is { GpuDevices.Count: > 0 } record && record.Attempt == attempt
            ? record.GpuDevices.ToArray()
            : null;
    }

    /// <summary>The reservations Redis holds for one worker.</summary>
    public async Task<IReadOnlyList<Reservation>> Reservations(string workerId)
    {
        var entries = await _db.HashGetAllAsync(keys.WorkerJobs(workerId));
        return entries.Select(e =>
        {
            var record = ReservationRecord.Parse(e.Value.ToString());
            return new Reservation(Guid.Parse(e.Name.ToString()), record.Attempt, record.Resources);
        }).ToList();
    }

    /// <summary>
    /// Brings one worker's reservations in line with the database: restores <paramref name="restore"/>, removes
    /// <paramref name="remove"/>, and recounts the counters. Returns how many counters were wrong.
    /// </summary>
    public async Task<int> Repair(string workerId, IReadOnlyCollection<Reservation> restore, IReadOnlyCollection<Reservation> remove) =>
        (int)await LuaScripts.Repair.EvaluateAsync(_db, new
        {
            used = keys.WorkerUsed(workerId), jobs = keys.WorkerJobs(workerId), released = keys.WorkerReleased(workerId),
            restore = Records(restore),
            remove = string.Join('\n', remove.Select(r => $"{r.JobId} {r.Attempt}")),
        });

    /// <summary>
    /// Replaces one worker's reservations with <paramref name="truth"/> (its unreleased allocation rows) and stamps the
    /// counters with <paramref name="epoch"/>. Call it only under the worker's row lock (<see cref="LedgerRebuilder"/>), so no
    /// allocation is recorded against the old counters meanwhile. Returns how many counters were wrong.
    /// </summary>
    public async Task<int> Rebuild(string workerId, IReadOnlyCollection<Reservation> truth, long epoch) =>
        (int)await LuaScripts.Rebuild.EvaluateAsync(_db, new
        {
            used = keys.WorkerUsed(workerId), jobs = keys.WorkerJobs(workerId), released = keys.WorkerReleased(workerId),
            truth = Records(truth), epoch,
        });

    /// <summary>Reservations as the scripts take a list of them: a line per job, "jobId record".</summary>
    static string Records(IEnumerable<Reservation> reservations) =>
        string.Join('\n', reservations.Select(r => $"{r.JobId} {new ReservationRecord(r.Attempt, r.Resources).Format()}"));
}

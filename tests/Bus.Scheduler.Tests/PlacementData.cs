using Bus.Capacity.Pools;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Persistence.Jobs;
using Bus.Scheduler.Placement;

namespace Bus.Scheduler.Tests;

/// <summary>Plain data for placement tests: workers, snapshots and requests, with defaults a test overrides by name.</summary>
static class PlacementData
{
    public static readonly DateTimeOffset Now = new(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);

    public static WorkerSnapshot Worker(string id, int cpus, int usedCpus = 0, int? slots = null, int running = 0,
        string[]? services = null, string[]? languages = null, string status = WorkerStatus.Ready, int memoryMb = 1024, int usedMemoryMb = 0) =>
        new(new WorkerRegistration(id, new ResourceVector(cpus, memoryMb, 0), slots ?? cpus, services ?? ["shell"], languages ?? [], status),
            new ResourceVector(usedCpus, usedMemoryMb, 0), running, Now);

    public static PlacementSnapshot Snapshot(IEnumerable<WorkerSnapshot> workers, PoolOptions[]? pools = null,
        (string, string)[]? unavailable = null, CapacityHold? hold = null, BalancingStrategy balancing = BalancingStrategy.LeastLoaded) =>
        PlacementSnapshot.Create(workers, PoolSet.Compile(pools ?? []),
            (unavailable ?? []).Select(u => new UnavailableService(u.Item1, u.Item2, Now.AddSeconds(30))), hold,
            new PlacementPolicy(balancing, TimeSpan.FromMinutes(1)), Now);

    public static PoolOptions Pool(string name, string[]? services = null, string[]? languages = null, string[]? prefixes = null) =>
        new() { Name = name, Services = services ?? [], Languages = languages ?? [], WorkerPrefixes = prefixes ?? [] };

    public static PlacementRequest Request(int cpus = 1, string service = "shell", string? language = null, string? exclude = null,
        string? pool = null, int priority = 50, DateTimeOffset? submittedAt = null, Guid? jobId = null) =>
        new(jobId ?? Guid.NewGuid(), 1, service, new ResourceVector(cpus, 0, 0), new PlacementConstraints(language, pool, exclude, null),
            "dev", priority, submittedAt ?? Now);

    public static PendingJob Pending(int cpus = 1, int priority = 50, TimeSpan? waited = null, string service = "shell", string? name = null) =>
        new(name is null ? Guid.NewGuid() : NamedId(name), "dev", service, new ResourceVector(cpus, 0, 0),
            new PlacementConstraints(null, null, null, null), priority, Now - (waited ?? TimeSpan.Zero));

    /// <summary>A stable id from a name, so a test can say which job it means.</summary>
    public static Guid NamedId(string name) => new(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(name)));

    public static string[] Ids(IEnumerable<WorkerSnapshot> workers) => workers.Select(w => w.WorkerId).ToArray();
}

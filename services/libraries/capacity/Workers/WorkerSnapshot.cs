using Bus.Contracts;

namespace Bus.Capacity.Workers;

/// <summary>What a worker offers, as it registers itself.</summary>
/// <param name="GpuDevices">The GPU device ids reservations bind (as many as Capacity.Gpus), or none when unnamed.</param>
/// <param name="Enforcement">How it contains its jobs: <c>cgroup-v2</c>, <c>cgroup-v1</c> or <c>process-group</c>.</param>
public sealed record WorkerRegistration(
    string WorkerId,
    ResourceVector Capacity,
    int MaxConcurrentJobs,
    string[] Services,
    string[] Languages,
    string Status,
    string[]? GpuDevices = null,
    string? Enforcement = null);

/// <summary>A live worker as Redis sees it at one moment: its registration and what is allocated on it.</summary>
public sealed record WorkerSnapshot(
    WorkerRegistration Registration,
    ResourceVector Used,
    int RunningJobs,
    DateTimeOffset LastHeartbeat)
{
    public string WorkerId => Registration.WorkerId;

    public ResourceVector Free => new(
        Registration.Capacity.Cpus - Used.Cpus,
        Registration.Capacity.MemoryMb - Used.MemoryMb,
        Registration.Capacity.Gpus - Used.Gpus);

    public bool IsReady => Registration.Status == WorkerStatus.Ready;
}

public static class WorkerStatus
{
    public const string Ready = "ready";
    public const string Draining = "draining";
}

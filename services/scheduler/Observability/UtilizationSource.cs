using Bus.Capacity.Workers;

namespace Bus.Scheduler.Observability;

/// <summary>Where <see cref="UtilizationAlertObserver"/> reads CPU utilization: the registry, or a stand-in in tests.</summary>
public interface IUtilizationSource
{
    /// <summary>Allocated over offered CPUs on one worker; null when its registration has expired or it offers none.</summary>
    Task<double?> Worker(string workerId);

    /// <summary>Allocated over offered CPUs summed over live workers; null when no live worker offers any.</summary>
    Task<double?> Cluster();
}

/// <summary>
/// Reads utilization from the live workers: one worker's two hashes, or every live worker, in Redis; from their rows in
/// PostgreSQL while Redis is down (<see cref="LiveWorkers"/>), so the alert keeps watching through an outage.
/// </summary>
public sealed class RegistryUtilizationSource(LiveWorkers live) : IUtilizationSource
{
    public async Task<double?> Worker(string workerId) =>
        await live.Find(workerId) is { Registration.Capacity.Cpus: > 0 } worker
            ? (double)worker.Used.Cpus / worker.Registration.Capacity.Cpus
            : null;

    public async Task<double?> Cluster()
    {
        var workers = await live.List();
        var offered = workers.Sum(w => (long)w.Registration.Capacity.Cpus);
        return offered > 0 ? (double)workers.Sum(w => (long)w.Used.Cpus) / offered : null;
    }
}

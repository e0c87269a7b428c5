using Microsoft.Extensions.Logging;

namespace Bus.Scheduler.Observability;

/// <summary>
/// One log line per allocation and release. At Debug: they are the hot path, one pair per attempt, and a busy
/// cluster would drown its other lines in them; <c>Logging:LogLevel:Bus.Scheduler.Observability.LoggingObserver=Debug</c>
/// shows them.
/// </summary>
public sealed class LoggingObserver(ILogger<LoggingObserver> logger) : IAllocationObserver
{
    public void OnAllocated(AllocationEvent allocation) =>
        logger.LogDebug("Allocated {Cpus} cpus, {MemoryMb} MB, {Gpus} gpus on {WorkerId} to job {JobId} attempt {Attempt}",
            allocation.Resources?.Cpus, allocation.Resources?.MemoryMb, allocation.Resources?.Gpus,
            allocation.WorkerId, allocation.JobId, allocation.Attempt);

    public void OnReleased(AllocationEvent release) =>
        logger.LogDebug("Released job {JobId} attempt {Attempt} on {WorkerId}", release.JobId, release.Attempt, release.WorkerId);
}

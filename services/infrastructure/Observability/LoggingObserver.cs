using Microsoft.Extensions.Logging;

namespace Bus.Infrastructure.Observability;

/// <summary>
/// One log line per allocation and release. At Information, so they show by default; a busy cluster can quiet
/// them with <c>Logging:LogLevel:Bus.Infrastructure.Observability.LoggingObserver</c>.
/// </summary>
public sealed class LoggingObserver(ILogger<LoggingObserver> logger) : IAllocationObserver
{
    public void OnAllocated(AllocationEvent allocation) =>
        logger.LogInformation("Allocated {Cpus} cpus, {MemoryMb} MB, {Gpus} gpus on {WorkerId} to job {JobId} attempt {Attempt}",
            allocation.Resources?.Cpus, allocation.Resources?.MemoryMb, allocation.Resources?.Gpus,
            allocation.WorkerId, allocation.JobId, allocation.Attempt);

    public void OnReleased(AllocationEvent release) =>
        logger.LogInformation("Released job {JobId} attempt {Attempt} on {WorkerId}", release.JobId, release.Attempt, release.WorkerId);
}

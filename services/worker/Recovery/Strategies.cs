using System.Diagnostics;
using Bus.Worker.Execution;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Recovery;

/// <summary>
/// Kills the attempt's process if it outlived the worker (a kill -9 leaves children behind): its output is lost and
/// nobody would report its end, so letting it run on would only hold the machine. The job ran as the leader of its
/// own process group, so the whole group goes, with children that lost their parent. (Jobs in cgroups were already
/// killed with their cgroups, before recovery.) A pid that belongs to a process started before the allocation is
/// someone else's (pids are reused) and is left alone.
/// </summary>
public sealed class KillLeftoverProcess(ILogger<KillLeftoverProcess> logger) : IRecoveryStrategy
{
    public async Task<RecoveryVerdict?> Examine(OrphanedAttempt attempt, CancellationToken cancellationToken)
    {
        if (attempt.ProcessId is not { } pid)
            return null;
        try
        {
            using var process = Process.GetProcessById(pid);
            if (process.StartTime.ToUniversalTime() < attempt.AllocatedAt.UtcDateTime.AddSeconds(-5))
                return null;
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(cancellationToken);
            logger.LogWarning("Killed process {Pid} left over from job {JobId} attempt {Attempt}", pid, attempt.JobId, attempt.Attempt);
        }
        catch (ArgumentException)
        {
            // No such process any more; its group may live on.
        }
        // A group outlives its leader while any member lives, and its id is not reused meanwhile.
        if (Native.GroupAlive(pid) && Native.Signal(-pid, Native.SigKill))
            logger.LogWarning("Killed the process group {Pid} left over from job {JobId} attempt {Attempt}", pid, attempt.JobId, attempt.Attempt);
        return null;
    }
}

/// <summary>An attempt already past its timeout, or past the worker's maximum runtime (default 72 h), has timed out.</summary>
public sealed class TimeOutOverdueAttempt(IOptions<WorkerOptions> options, TimeProvider clock) : IRecoveryStrategy
{
    public Task<RecoveryVerdict?> Examine(OrphanedAttempt attempt, CancellationToken cancellationToken)
    {
        var limit = TimeSpan.FromSeconds(attempt.TimeoutSeconds);
        if (limit > options.Value.MaxRuntime)
            limit = options.Value.MaxRuntime;
        var started = attempt.StartedAt ?? attempt.AllocatedAt;
        return Task.FromResult<RecoveryVerdict?>(clock.GetUtcNow() - started > limit
            ? new RecoveryVerdict.TimedOut($"timed out: found running past its limit of {limit} when the worker restarted")
            : null);
    }
}

/// <summary>The last word: the attempt's process is gone with the previous worker process, so the attempt failed.</summary>
public sealed class FailLostAttempt : IRecoveryStrategy
{
    public Task<RecoveryVerdict?> Examine(OrphanedAttempt attempt, CancellationToken cancellationToken) =>
        Task.FromResult<RecoveryVerdict?>(new RecoveryVerdict.Failed(
            $"the worker restarted while attempt {attempt.Attempt} ran; its process{(attempt.ProcessId is { } pid ? $" {pid}" : "")} is gone"));
}

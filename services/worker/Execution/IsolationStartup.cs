using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// Before recovery and registration (and after <see cref="WorkerIdLock"/> made sure no other live process has this
/// worker's id here): checks as whom jobs will run (refusing root unless allowed), picks the containment,
/// which the registration then names, and kills whatever an earlier process of this worker left in its cgroups. So
/// when recovery reports an orphaned attempt and it is run again elsewhere, nothing of it still runs here.
/// </summary>
public sealed class IsolationStartup(
    JobSandbox sandbox,
    IContainment containment,
    IOptions<WorkerOptions> options,
    ILogger<IsolationStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        options.Value.Enforcement = containment.Mode;
        var leftovers = await containment.KillLeftovers(cancellationToken);
        if (leftovers > 0)
            logger.LogWarning("Killed what was left of {Count} attempts of an earlier process of this worker", leftovers);
        logger.LogInformation("Jobs run as {User}, contained by {Enforcement}", sandbox.Description, containment.Mode);
    }

    /// <summary>
    /// Removes the spare cgroups, and the worker's own folders once empty. An attempt still running at this point
    /// keeps its cgroups and those folders; the next start of this worker removes them (<see cref="IContainment.KillLeftovers"/>).
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await containment.RemoveUnused().WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException or TimeoutException)
        {
            // Not a reason to fail the stop: the next start of this worker removes what is left (KillLeftovers).
            logger.LogWarning(e, "Could not remove this worker's unused cgroups at its stop");
        }
    }
}

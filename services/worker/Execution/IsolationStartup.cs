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

    /// <summary>Last to stop (the first to start), after the runner has ended or handed back every attempt.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => containment.RemoveUnused().WaitAsync(cancellationToken);
}

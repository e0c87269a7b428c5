using Microsoft.Extensions.Logging;

namespace Bus.Hosting.Resilience;

/// <summary>
/// Start-up steps that need a server (the schema migration, a worker's recovery and registration) wait for it rather
/// than crash the service: the step is tried again, 1 s apart growing to 10 s, until it succeeds or the host stops.
/// Only outages are waited out (<see cref="OutageExceptions"/>); any other error still fails the start.
/// </summary>
public static class UntilReachable
{
    public static async Task Run(string step, Func<CancellationToken, Task> action, ILogger logger, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        for (var tries = 1; ; tries++)
        {
            try
            {
                await action(cancellationToken);
                if (tries > 1)
                    logger.LogInformation("{Step} succeeded after {Tries} tries", step, tries);
                return;
            }
            catch (Exception e) when (OutageExceptions.IsOutage(e) && !cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("{Step} failed, a server is unreachable ({Error}); trying again in {Delay}", step, e.Message, delay);
            }
            await Task.Delay(delay, clock, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
        }
    }
}

using Microsoft.Extensions.Options;

namespace Bus.Gateway.Stats;

/// <summary>Rebuilds the stats snapshot every <see cref="StatsOptions.RefreshInterval"/>, starting at once, and keeps
/// each one in the charts' <see cref="StatsHistory"/>.</summary>
public sealed class StatsRefresher(StatsSnapshots snapshots, StatsHistory history, IOptions<StatsOptions> options, ILogger<StatsRefresher> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval);
        do
        {
            try
            {
                await snapshots.Refresh(stoppingToken);
                if (snapshots.Latest is { } latest)
                    history.Record(latest);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Requests keep getting the last snapshot (its generatedAt shows its age) until a rebuild succeeds.
                logger.LogWarning(e, "Could not rebuild the stats snapshot; trying again in {Interval}", options.Value.RefreshInterval);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}

using System.Diagnostics.Metrics;

namespace Bus.Gateway.Stats;

/// <summary>
/// Jobs by state (<c>bus.gateway.jobs</c>), read from the latest stats snapshot when scraped, so a scrape costs no
/// query. Every gateway reports the same cluster-wide numbers: aggregate them with max, not sum.
/// </summary>
public sealed class JobStateGauges
{
    public const string MeterName = "Bus.Gateway";

    public JobStateGauges(StatsSnapshots snapshots, IMeterFactory meters, TimeProvider clock)
    {
        var meter = meters.Create(MeterName);
        meter.CreateObservableGauge("bus.gateway.jobs",
            () => (snapshots.Latest?.JobsByState ?? new Dictionary<string, long>())
                .Select(s => new Measurement<long>(s.Value, new KeyValuePair<string, object?>("state", s.Key))),
            "{job}", "Jobs in each state, as of the latest stats snapshot");
        // What an alert on "waiting too long" needs: a count cannot tell one stuck job from a busy queue.
        meter.CreateObservableGauge("bus.gateway.jobs.oldest_pending_age",
            () => snapshots.Latest?.OldestPendingSubmittedAt is { } submitted ? Math.Max(0, (clock.GetUtcNow() - submitted).TotalSeconds) : 0,
            "s", "How long the longest-waiting pending job has waited; 0 when none waits");
    }
}

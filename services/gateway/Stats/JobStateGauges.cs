using System.Diagnostics.Metrics;
using Bus.Contracts;

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
        // Why jobs wait, not only how many: the code tells a full cluster (Resources) from a missing worker
        // (NoWorkerForService) or a broken one (Unavailable), which need different people.
        meter.CreateObservableGauge("bus.gateway.jobs.pending",
            () => (snapshots.Latest?.PendingByReasonCode ?? new Dictionary<PendingReasonCode, long>())
                .Select(c => new Measurement<long>(c.Value, new KeyValuePair<string, object?>("reason_code", c.Key.ToString()))),
            "{job}", "Pending jobs by pending reason code, as of the latest stats snapshot");
        // What an alert on "waiting too long" needs: a count cannot tell one stuck job from a busy queue.
        meter.CreateObservableGauge("bus.gateway.jobs.oldest_pending_age",
            () => snapshots.Latest?.OldestPendingSubmittedAt is { } submitted ? Math.Max(0, (clock.GetUtcNow() - submitted).TotalSeconds) : 0,
            "s", "How long the longest-waiting pending job has waited; 0 when none waits");
    }
}

using Bus.Contracts;
using Bus.Gateway.Stats;

namespace Bus.Gateway.Tests;

/// <summary>The charts' 15 minutes of snapshots: rates from consecutive counts, old samples forgotten, tenants apart.</summary>
public sealed class StatsHistoryTests
{
    static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
    static readonly string[] States = ["Pending", "Allocated", "Running", "Completed", "Failed", "Cancelled", "TimedOut"];

    static StatsSnapshot Snapshot(TimeSpan after, double utilization, params (string Tenant, long Pending, long Completed)[] tenants)
    {
        var counts = tenants.ToDictionary(t => t.Tenant, t => new TenantCounts(
            States.ToDictionary(s => s, s => s == "Pending" ? t.Pending : s == "Completed" ? t.Completed : 0L), 0));
        var all = States.ToDictionary(s => s, s => counts.Values.Sum(c => c.JobsByState[s]));
        return new StatsSnapshot(2, new ResourceVector(6, 0, 0), new ResourceVector(3, 0, 0), utilization, all, all["Pending"], 0,
            null, Start + after, null, counts);
    }

    [Fact]
    public void Completions_per_second_are_the_growth_of_the_completed_count_between_samples()
    {
        var history = new StatsHistory();
        history.Record(Snapshot(TimeSpan.Zero, 0.5, ("dev", 4, 10)));
        history.Record(Snapshot(TimeSpan.FromSeconds(5), 0.25, ("dev", 1, 20)));

        var samples = history.Samples(null);

        Assert.Equal(2, samples.Count);
        Assert.Null(samples[0].CompletedPerSecond);
        Assert.Equal(2.0, samples[1].CompletedPerSecond);
        Assert.Equal([4L, 1L], samples.Select(s => s.Pending));
        Assert.Equal([0.5, 0.25], samples.Select(s => s.Utilization));
    }

    [Fact]
    public void Samples_older_than_fifteen_minutes_are_forgotten()
    {
        var history = new StatsHistory();
        history.Record(Snapshot(TimeSpan.Zero, 0, ("dev", 0, 0)));
        history.Record(Snapshot(TimeSpan.FromMinutes(10), 0, ("dev", 0, 0)));
        history.Record(Snapshot(TimeSpan.FromMinutes(16), 0, ("dev", 0, 0)));

        Assert.Equal([Start.AddMinutes(10), Start.AddMinutes(16)], history.Samples(null).Select(s => s.At));
    }

    [Fact]
    public void A_tenant_sees_its_own_counts_and_the_clusters_utilization()
    {
        var history = new StatsHistory();
        history.Record(Snapshot(TimeSpan.Zero, 0.5, ("dev", 4, 10), ("acme", 7, 100)));
        history.Record(Snapshot(TimeSpan.FromSeconds(10), 0.5, ("dev", 4, 10), ("acme", 7, 150)));

        var dev = history.Samples("dev");
        var nobody = history.Samples("nobody");

        Assert.Equal([4L, 4L], dev.Select(s => s.Pending));
        Assert.Equal(0.0, dev[1].CompletedPerSecond);
        Assert.Equal(5.0, history.Samples("acme")[1].CompletedPerSecond);
        Assert.Equal([0L, 0L], nobody.Select(s => s.Pending));
        Assert.Equal(0.5, nobody[1].Utilization);
    }
}

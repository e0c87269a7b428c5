using Bus.Contracts;
using Bus.Persistence.Jobs;
using Bus.Scheduler.Placement;
using static Bus.Scheduler.Tests.PlacementData;

namespace Bus.Scheduler.Tests;

/// <summary>Fair share between tenants and the eligibility filter of the pending read, over plain data.</summary>
public sealed class FairShareTests
{
    static readonly TimeSpan Aging = TimeSpan.FromMinutes(1);

    static PendingJob Job(string tenant, string name, int priority = 50, TimeSpan? waited = null, int cpus = 1) =>
        Pending(cpus: cpus, priority: priority, waited: waited, name: name) with { Tenant = tenant };

    static List<PendingJob> Order(IEnumerable<PendingJob> jobs, Dictionary<string, long>? usage = null, Dictionary<string, double>? shares = null) =>
        FairShare.Order(PendingQueue.Order(jobs, Aging), usage ?? [], shares ?? [], Aging);

    [Fact]
    public void A_tenant_with_a_long_backlog_does_not_go_before_another_tenants_one_job()
    {
        var flood = Enumerable.Range(0, 1000).Select(i => Job("a", $"a-{i}", priority: 100, waited: TimeSpan.FromMinutes(10)));
        var order = Order([.. flood, Job("b", "b-0", priority: 0)], usage: new() { ["a"] = 6 });

        Assert.Equal(NamedId("b-0"), order[0].JobId);
        Assert.Equal(1001, order.Count);
    }

    [Fact]
    public void Tenants_using_the_same_alternate_and_each_keeps_its_own_priority_order()
    {
        var order = Order([
            Job("a", "a-low", priority: 10), Job("a", "a-high", priority: 90),
            Job("b", "b-low", priority: 20), Job("b", "b-high", priority: 80),
        ]);

        // Both use nothing: the better-ranked head goes first, then the other tenant, who now uses less; then both use
        // the same again and the better-ranked head wins once more.
        Assert.Equal([NamedId("a-high"), NamedId("b-high"), NamedId("b-low"), NamedId("a-low")], order.Select(j => j.JobId));
    }

    [Fact]
    public void A_larger_share_gets_proportionally_more_cpus()
    {
        var jobs = Enumerable.Range(0, 30).SelectMany(i => new[] { Job("big", $"big-{i}"), Job("small", $"small-{i}") });

        var first = Order(jobs, shares: new() { ["big"] = 2 }).Take(30).ToList();

        Assert.Equal(20, first.Count(j => j.Tenant == "big"));
        Assert.Equal(10, first.Count(j => j.Tenant == "small"));
    }

    [Fact]
    public void One_tenant_alone_keeps_the_plain_queue_order()
    {
        var jobs = PendingQueue.Order([Job("a", "x", priority: 1), Job("a", "y", priority: 99), Job("a", "z", priority: 50)], Aging);

        Assert.Equal(jobs, FairShare.Order(jobs, new Dictionary<string, long> { ["a"] = 100 }, new Dictionary<string, double>(), Aging));
    }

    [Fact]
    public void Eligibility_names_what_ready_workers_offer_and_their_largest_capacity_or_free_room()
    {
        var snapshot = Snapshot([
            Worker("w1", cpus: 4, usedCpus: 3, services: ["shell"], languages: ["en", "de"]),
            Worker("w2", cpus: 8, usedCpus: 8, slots: 2, running: 2, services: ["asr"]),
            Worker("gone", cpus: 64, services: ["tts"], status: Bus.Capacity.Workers.WorkerStatus.Draining),
        ]);

        var ever = PendingEligibility.Of(snapshot, freeRoomOnly: false)!;
        var now = PendingEligibility.Of(snapshot, freeRoomOnly: true)!;

        Assert.Equal(8, ever.Cpus);
        Assert.Equal(["asr", "shell"], ever.Services);
        Assert.Equal([$"shell{PendingEligibility.Separator}de", $"shell{PendingEligibility.Separator}en"], ever.Pairs);
        Assert.Equal(1, now.Cpus); // w2 has no free slot; w1 has one cpu free
        Assert.Equal(["shell"], now.Services);
        Assert.NotEqual(ever.Signature, now.Signature);
        Assert.Null(PendingEligibility.Of(Snapshot([Worker("w", cpus: 2, slots: 1, running: 1)]), freeRoomOnly: true));
    }

    [Fact]
    public void Only_jobs_whose_pending_reason_is_out_of_date_are_offered_again()
    {
        var snapshot = Snapshot([Worker("w", cpus: 2, usedCpus: 2)]);
        var full = WorkerSelector.FullReason(1);
        var jobs = new[]
        {
            Pending(name: "same") with { PendingReason = full, PendingReasonCode = PendingReasonCode.Resources },
            Pending(name: "never-placed") with { PendingReason = null },
            Pending(name: "was-no-worker") with { PendingReason = "no live worker", PendingReasonCode = PendingReasonCode.NoWorkerForService },
            Pending(service: "asr", name: "no-asr") with
            {
                PendingReason = "no live worker offers service 'asr'", PendingReasonCode = PendingReasonCode.NoWorkerForService,
            },
        };

        Assert.Equal([NamedId("never-placed"), NamedId("was-no-worker")], PendingQueue.Outdated(jobs, snapshot, limit: 10).Select(j => j.JobId));
        Assert.Single(PendingQueue.Outdated(jobs, snapshot, limit: 1));
    }

    [Fact]
    public void Probes_are_the_first_jobs_waiting_only_for_capacity()
    {
        var snapshot = Snapshot([Worker("w", cpus: 2, usedCpus: 2)]);
        var jobs = new[]
        {
            Pending(service: "asr", name: "no-worker"), Pending(cpus: 8, name: "too-big"),
            Pending(name: "full-1"), Pending(name: "full-2"), Pending(name: "full-3"),
        };

        Assert.Equal([NamedId("full-1"), NamedId("full-2")], PendingQueue.Probes(jobs, snapshot, count: 2).Select(j => j.JobId));
    }
}

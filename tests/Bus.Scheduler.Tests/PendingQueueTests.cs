using Bus.Scheduler.Placement;
using static Bus.Scheduler.Tests.PlacementData;

namespace Bus.Scheduler.Tests;

/// <summary>The pending queue over plain data: order with aging, backfill, and capacity held for a job that waited too long.</summary>
public sealed class PendingQueueTests
{
    static readonly TimeSpan Aging = TimeSpan.FromMinutes(1);

    [Fact]
    public void Higher_priority_goes_first_then_older()
    {
        var queue = PendingQueue.Order([
            Pending(priority: 50, name: "new-50"),
            Pending(priority: 90, name: "new-90"),
            Pending(priority: 50, waited: TimeSpan.FromSeconds(30), name: "old-50"),
        ], Aging);

        Assert.Equal([NamedId("new-90"), NamedId("old-50"), NamedId("new-50")], queue.Select(j => j.JobId));
    }

    [Fact]
    public void Aging_lets_a_long_waiting_low_priority_job_overtake_newer_higher_priority_ones()
    {
        var queue = PendingQueue.Order([
            Pending(priority: 90, name: "fresh-90"),
            Pending(priority: 10, waited: TimeSpan.FromMinutes(85), name: "starving-10"),
            Pending(priority: 10, waited: TimeSpan.FromMinutes(5), name: "young-10"),
        ], Aging);

        Assert.Equal([NamedId("starving-10"), NamedId("fresh-90"), NamedId("young-10")], queue.Select(j => j.JobId));
        Assert.Equal(95, QueueOrder.EffectivePriority(10, Now - TimeSpan.FromMinutes(85), Now, Aging));
        Assert.Equal(90, QueueOrder.EffectivePriority(90, Now, Now, Aging));
    }

    [Fact]
    public void A_job_that_does_not_fit_does_not_block_smaller_ones_behind_it()
    {
        var snapshot = Snapshot([Worker("w", cpus: 8, usedCpus: 4)]);
        var queue = PendingQueue.Order([
            Pending(cpus: 6, priority: 90, name: "big"),
            Pending(cpus: 2, priority: 50, name: "small-1"),
            Pending(cpus: 2, priority: 40, name: "small-2"),
            Pending(cpus: 2, priority: 30, name: "small-3"),
        ], Aging);

        var offered = PendingQueue.Fitting(queue, snapshot, limit: 100);

        // Four cpus free: the big one cannot fit, two small ones can, the third would overfill.
        Assert.Equal([NamedId("small-1"), NamedId("small-2")], offered.Select(j => j.JobId));
    }

    [Fact]
    public void Backfill_counts_job_slots_and_services_and_stops_at_the_limit()
    {
        var snapshot = Snapshot([Worker("w", cpus: 8, slots: 3, running: 1), Worker("asr", cpus: 8, services: ["asr"])]);
        var queue = PendingQueue.Order([
            Pending(name: "a"), Pending(name: "b"), Pending(name: "c"),
            Pending(service: "asr", name: "d"), Pending(service: "tts", name: "e"),
        ], Aging);

        var offered = PendingQueue.Fitting(queue, snapshot, limit: 100).Select(j => j.JobId).ToList();

        Assert.Equal(3, offered.Count); // two shell jobs fill w's two free slots, the asr job fits its worker, tts fits nowhere
        Assert.Contains(NamedId("d"), offered);
        Assert.DoesNotContain(NamedId("e"), offered);
        Assert.Single(PendingQueue.Fitting(queue, snapshot, limit: 1));
    }

    [Fact]
    public void A_job_waiting_for_capacity_past_the_threshold_gets_the_least_loaded_eligible_worker_held()
    {
        var snapshot = Snapshot([Worker("busy", cpus: 8, usedCpus: 7), Worker("half", cpus: 8, usedCpus: 4), Worker("small", cpus: 4)]);
        var queue = PendingQueue.Order([
            Pending(cpus: 1, waited: TimeSpan.FromMinutes(30), name: "fits-now"),
            Pending(cpus: 64, waited: TimeSpan.FromMinutes(30), name: "too-big"),
            Pending(cpus: 6, waited: TimeSpan.FromMinutes(1), name: "young"),
            Pending(cpus: 6, priority: 10, waited: TimeSpan.FromMinutes(6), name: "starving"),
        ], Aging);

        var hold = PendingQueue.ChooseHold(queue, snapshot, Now, after: TimeSpan.FromMinutes(5));

        Assert.NotNull(hold);
        Assert.Equal((NamedId("starving"), "half"), (hold.JobId, hold.WorkerId));
        Assert.Null(PendingQueue.ChooseHold(queue, snapshot, Now, after: TimeSpan.FromHours(1)));
    }

    [Fact]
    public void The_hold_stays_on_its_worker_while_that_worker_stays_eligible()
    {
        var job = Pending(cpus: 6, waited: TimeSpan.FromMinutes(10), name: "starving");
        var previous = new CapacityHold(job.JobId, job.Priority, job.SubmittedAt, job.Resources, "busy");
        var snapshot = Snapshot([Worker("busy", cpus: 8, usedCpus: 7), Worker("idle-ish", cpus: 8, usedCpus: 3)], hold: previous);

        Assert.Equal("busy", PendingQueue.ChooseHold([job], snapshot, Now, TimeSpan.FromMinutes(5))!.WorkerId);
        Assert.Equal("idle-ish", PendingQueue.ChooseHold([job], snapshot with { Hold = previous with { WorkerId = "gone" } }, Now, TimeSpan.FromMinutes(5))!.WorkerId);
    }

    [Fact]
    public void A_stream_of_small_jobs_cannot_starve_the_held_job()
    {
        // The big job needs all 8 cpus of either worker. Without a hold every freed cpu goes to the next small job.
        var big = Pending(cpus: 8, waited: TimeSpan.FromMinutes(10), name: "big");
        var smalls = Enumerable.Range(0, 20).Select(i => Pending(cpus: 1, priority: 50, waited: TimeSpan.FromSeconds(20 - i), name: $"small-{i}")).ToList();
        var workers = new[] { Worker("w1", cpus: 8, usedCpus: 6), Worker("w2", cpus: 8, usedCpus: 7) };
        var queue = PendingQueue.Order([big, .. smalls], Aging);

        var unheld = Snapshot(workers);
        Assert.Equal(3, PendingQueue.Fitting(queue, unheld, 100).Count);

        var hold = PendingQueue.ChooseHold(queue, unheld, Now, TimeSpan.FromMinutes(5))!;
        Assert.Equal((big.JobId, "w1"), (hold.JobId, hold.WorkerId));
        var held = Snapshot(workers, hold: hold);
        Assert.Equal([smalls[0].JobId], PendingQueue.Fitting(queue, held, 100).Select(j => j.JobId)); // only w2's free cpu

        // Once w1 has drained, the big job is offered and the small ones still get only w2.
        var drained = Snapshot([Worker("w1", cpus: 8), Worker("w2", cpus: 8, usedCpus: 7)], hold: hold);
        Assert.Equal([big.JobId, smalls[0].JobId], PendingQueue.Fitting(queue, drained, 100).Select(j => j.JobId));
    }
}

using Bus.Capacity.Pools;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Scheduler.Placement;
using static Bus.Scheduler.Tests.PlacementData;

namespace Bus.Scheduler.Tests;

/// <summary>Placement's choice of workers, and its reasons for waiting, over plain snapshots.</summary>
public sealed class WorkerSelectorTests
{
    [Fact]
    public void The_least_loaded_worker_that_fits_comes_first()
    {
        var workers = new[] { Worker("busy", cpus: 8, usedCpus: 6), Worker("idle", cpus: 8), Worker("half", cpus: 8, usedCpus: 4) };

        var selection = WorkerSelector.Select(Snapshot(workers), Request(cpus: 2));

        Assert.Equal(["idle", "half", "busy"], Ids(selection.Candidates));
        Assert.Null(selection.WaitReason);
    }

    [Fact]
    public void A_worker_without_room_or_free_slots_is_not_a_candidate()
    {
        var workers = new[] { Worker("no-cpus", cpus: 4, usedCpus: 3), Worker("no-slots", cpus: 4, slots: 1, running: 1), Worker("ok", cpus: 4) };

        var selection = WorkerSelector.Select(Snapshot(workers), Request(cpus: 2));

        Assert.Equal(["ok"], Ids(selection.Candidates));
        Assert.Equal(["no-cpus", "no-slots"], Ids(selection.LookedFull).Order());
    }

    [Fact]
    public void Load_is_the_dominant_share_so_a_worker_out_of_memory_is_not_idle()
    {
        var workers = new[] { Worker("cpu-half", cpus: 8, usedCpus: 4), Worker("memory-full", cpus: 8, usedCpus: 1, memoryMb: 1000, usedMemoryMb: 900) };

        Assert.Equal(["cpu-half", "memory-full"], Ids(WorkerSelector.Select(Snapshot(workers), Request()).Candidates));
    }

    [Fact]
    public void A_job_bigger_than_every_worker_says_how_big_the_largest_is()
    {
        var selection = WorkerSelector.Select(Snapshot([Worker("a", cpus: 8), Worker("b", cpus: 4)]), Request(cpus: 16));

        Assert.Empty(selection.Candidates);
        Assert.Equal(PendingReasonCode.TooLarge, selection.Code);
        Assert.Equal("needs 16 cpus; the largest live worker offering 'shell' has 8", selection.WaitReason);
    }

    [Fact]
    public void A_service_and_language_nobody_offers_is_named()
    {
        var selection = WorkerSelector.Select(Snapshot([Worker("a", cpus: 8, services: ["asr"], languages: ["en"])]), Request(service: "asr", language: "zh-en"));

        Assert.Equal("no live worker offers service 'asr' for language 'zh-en'", selection.WaitReason);
    }

    [Fact]
    public void With_no_workers_at_all_the_reason_says_so()
    {
        Assert.Equal("no live worker", WorkerSelector.Select(Snapshot([]), Request()).WaitReason);
    }

    [Fact]
    public void The_excluded_worker_is_never_chosen()
    {
        var only = WorkerSelector.Select(Snapshot([Worker("a", cpus: 8)]), Request(exclude: "a"));
        var two = WorkerSelector.Select(Snapshot([Worker("a", cpus: 8), Worker("b", cpus: 8, usedCpus: 7)]), Request(exclude: "a"));

        Assert.Equal("the excluded worker is the only one eligible", only.WaitReason);
        Assert.Equal(["b"], Ids(two.Candidates));
        Assert.Empty(two.LookedFull);
    }

    [Fact]
    public void Draining_workers_take_no_new_jobs()
    {
        var selection = WorkerSelector.Select(Snapshot([Worker("a", cpus: 8, status: WorkerStatus.Draining)]), Request());

        Assert.Empty(selection.Candidates);
        Assert.Equal("no live worker offers service 'shell'", selection.WaitReason);
    }

    [Fact]
    public void When_every_eligible_worker_is_full_the_job_waits_for_capacity_and_they_are_kept_for_a_stale_snapshot()
    {
        var selection = WorkerSelector.Select(Snapshot([Worker("a", cpus: 2, usedCpus: 2), Worker("b", cpus: 2, usedCpus: 1)]), Request(cpus: 2));

        Assert.Equal(PendingReasonCode.Resources, selection.Code);
        Assert.Equal("2 eligible workers, all full (waiting for capacity)", selection.WaitReason);
        Assert.Equal(["b", "a"], Ids(selection.LookedFull));
        Assert.Equal("1 eligible worker, full (waiting for capacity)",
            WorkerSelector.Select(Snapshot([Worker("a", cpus: 2, usedCpus: 2)]), Request(cpus: 2)).WaitReason);
    }

    [Fact]
    public void Power_of_two_choices_never_puts_the_most_loaded_worker_first_and_spreads_first_choices()
    {
        var workers = new[] { Worker("w0", cpus: 8), Worker("w1", cpus: 8, usedCpus: 2), Worker("w2", cpus: 8, usedCpus: 4), Worker("w3", cpus: 8, usedCpus: 6) };
        var snapshot = Snapshot(workers, balancing: BalancingStrategy.PowerOfTwoChoices);
        var random = new Random(7);

        var firsts = Enumerable.Range(0, 200).Select(_ => WorkerSelector.Select(snapshot, Request(), random: random)).ToList();

        Assert.DoesNotContain(firsts, s => s.Candidates[0].WorkerId == "w3");
        Assert.True(firsts.Select(s => s.Candidates[0].WorkerId).Distinct().Count() >= 3, "the first choice should spread over the less loaded workers");
        // Every worker with room stays a fallback, in order of load behind the chosen one.
        Assert.All(firsts, s => Assert.Equal(["w0", "w1", "w2", "w3"], Ids(s.Candidates).Order()));
        Assert.All(firsts, s => Assert.Equal(Ids(s.Candidates).Skip(1), Ids(s.Candidates).Skip(1).OrderBy(id => id)));
    }

    [Fact]
    public void Power_of_two_choices_between_two_workers_takes_the_less_loaded()
    {
        var snapshot = Snapshot([Worker("busy", cpus: 8, usedCpus: 5), Worker("idle", cpus: 8)], balancing: BalancingStrategy.PowerOfTwoChoices);

        Assert.All(Enumerable.Range(0, 20), i => Assert.Equal("idle", WorkerSelector.Select(snapshot, Request(), random: new Random(i)).Candidates[0].WorkerId));
    }

    [Fact]
    public void A_worker_that_reported_the_service_unavailable_is_skipped_for_that_service_only()
    {
        var workers = new[] { Worker("a", cpus: 8, services: ["asr", "shell"]), Worker("b", cpus: 8, usedCpus: 6, services: ["asr", "shell"]) };
        var snapshot = Snapshot(workers, unavailable: [("a", "asr")]);

        Assert.Equal(["b"], Ids(WorkerSelector.Select(snapshot, Request(service: "asr")).Candidates));
        Assert.Equal(["a", "b"], Ids(WorkerSelector.Select(snapshot, Request(service: "shell")).Candidates));
    }

    [Fact]
    public void When_every_worker_reported_the_service_unavailable_the_reason_says_so()
    {
        var one = Snapshot([Worker("a", cpus: 8, services: ["asr"], languages: ["zh"])], unavailable: [("a", "asr")]);
        var two = Snapshot([Worker("a", cpus: 8, services: ["asr"]), Worker("b", cpus: 8, services: ["asr"])], unavailable: [("a", "asr"), ("b", "asr")]);

        Assert.Equal("the only live worker offering service 'asr' for language 'zh' reported it unavailable; retrying when the report lapses",
            WorkerSelector.Select(one, Request(service: "asr", language: "zh")).WaitReason);
        var selection = WorkerSelector.Select(two, Request(service: "asr"));
        Assert.Equal((PendingReasonCode.Unavailable, "all 2 live workers offering service 'asr' reported it unavailable; retrying when the reports lapse"),
            (selection.Code, selection.WaitReason));
        Assert.Empty(selection.LookedFull);
    }

    [Fact]
    public void Jobs_go_to_workers_offering_their_language()
    {
        var workers = new[]
        {
            Worker("zh", cpus: 8, services: ["asr"], languages: ["zh"]),
            Worker("zh-en", cpus: 8, services: ["nmt"], languages: ["zh-en"]),
            Worker("en", cpus: 8, services: ["asr", "tts"], languages: ["en"]),
        };

        Assert.Equal(["zh"], Ids(WorkerSelector.Select(Snapshot(workers), Request(service: "asr", language: "zh")).Candidates));
        Assert.Equal(["zh-en"], Ids(WorkerSelector.Select(Snapshot(workers), Request(service: "nmt", language: "zh-en")).Candidates));
        Assert.Equal(["en", "zh"], Ids(WorkerSelector.Select(Snapshot(workers), Request(service: "asr")).Candidates).Order());
    }

    [Fact]
    public void The_preferred_pool_comes_first_then_the_other_eligible_pools_in_order_then_the_default_pool()
    {
        var workers = new[] { Worker("loose", cpus: 8), Worker("gpu-1", cpus: 8, usedCpus: 4), Worker("big-1", cpus: 8, usedCpus: 6) };
        var snapshot = Snapshot(workers, pools: [Pool("big", prefixes: ["big-"]), Pool("gpu", prefixes: ["gpu-"])]);

        Assert.Equal(["gpu-1", "big-1", "loose"], Ids(WorkerSelector.Select(snapshot, Request(pool: "gpu")).Candidates));
        Assert.Equal(["big-1", "gpu-1", "loose"], Ids(WorkerSelector.Select(snapshot, Request()).Candidates));
        Assert.Equal(["loose", "big-1", "gpu-1"], Ids(WorkerSelector.Select(snapshot, Request(pool: PoolSet.DefaultPool)).Candidates));
        Assert.Equal(["big-1", "gpu-1", "loose"], Ids(WorkerSelector.Select(snapshot, Request(pool: "no-such-pool")).Candidates));
    }

    [Fact]
    public void When_the_preferred_pool_is_full_placement_falls_back_to_the_next_eligible_pool()
    {
        var workers = new[] { Worker("fast-1", cpus: 2, usedCpus: 2), Worker("fast-2", cpus: 2, slots: 1, running: 1), Worker("slow-1", cpus: 2, usedCpus: 1) };
        var snapshot = Snapshot(workers, pools: [Pool("slow", prefixes: ["slow-"]), Pool("fast", prefixes: ["fast-"])]);

        var selection = WorkerSelector.Select(snapshot, Request(pool: "fast"));

        Assert.Equal(["slow-1"], Ids(selection.Candidates));
        Assert.Equal(["fast-1", "fast-2"], Ids(selection.LookedFull).Order());
    }

    [Fact]
    public void A_worker_in_a_pool_that_does_not_serve_the_job_is_not_used()
    {
        var workers = new[] { Worker("asr-1", cpus: 8, services: ["asr", "shell"]), Worker("plain", cpus: 8, usedCpus: 7) };
        var snapshot = Snapshot(workers, pools: [Pool("asr", services: ["asr"])]);

        Assert.Equal(["plain"], Ids(WorkerSelector.Select(snapshot, Request(service: "shell")).Candidates));
        Assert.Equal(["asr-1"], Ids(WorkerSelector.Select(snapshot, Request(service: "asr")).Candidates));
    }

    [Fact]
    public void Pools_by_language_route_a_language_pair_to_its_pool()
    {
        var workers = new[]
        {
            Worker("n1", cpus: 4, services: ["nmt"], languages: ["zh-en"]),
            Worker("n2", cpus: 4, services: ["nmt"], languages: ["en-de"]),
        };
        var snapshot = Snapshot(workers, pools: [Pool("zh", languages: ["zh", "zh-en"]), Pool("de", languages: ["en-de"])]);

        Assert.Equal(["n1"], Ids(WorkerSelector.Select(snapshot, Request(service: "nmt", language: "zh-en")).Candidates));
        Assert.Equal(["n2"], Ids(WorkerSelector.Select(snapshot, Request(service: "nmt", language: "en-de")).Candidates));
    }

    [Fact]
    public void When_the_only_workers_offering_a_service_sit_in_pools_not_serving_it_the_reason_says_so()
    {
        var snapshot = Snapshot([Worker("asr-1", cpus: 8, services: ["asr", "shell"])], pools: [Pool("asr", services: ["asr"])]);

        var selection = WorkerSelector.Select(snapshot, Request(service: "shell"));

        Assert.Equal((PendingReasonCode.NoPool, "1 live worker offers service 'shell', but no pool that serves it has it"), (selection.Code, selection.WaitReason));
    }

    [Fact]
    public void The_affinity_worker_goes_first_while_it_has_room()
    {
        var workers = new[] { Worker("idle", cpus: 8), Worker("last", cpus: 8, usedCpus: 5) };

        Assert.Equal(["last", "idle"], Ids(WorkerSelector.Select(Snapshot(workers), Request(), affinityWorker: "last").Candidates));
    }

    [Fact]
    public void Without_room_or_eligibility_on_the_affinity_worker_the_job_is_placed_normally()
    {
        var workers = new[] { Worker("idle", cpus: 8), Worker("last", cpus: 8, usedCpus: 8), Worker("other", cpus: 8, usedCpus: 2) };

        Assert.Equal(["idle", "other"], Ids(WorkerSelector.Select(Snapshot(workers), Request(), affinityWorker: "last").Candidates));
        Assert.Equal(["idle", "other"], Ids(WorkerSelector.Select(Snapshot(workers), Request(exclude: "last"), affinityWorker: "last").Candidates));
        Assert.Equal(["idle"], Ids(WorkerSelector.Select(Snapshot(workers, unavailable: [("other", "shell")]), Request(), affinityWorker: "other").Candidates));
        Assert.Equal(["idle", "other"], Ids(WorkerSelector.Select(Snapshot(workers), Request(), affinityWorker: "gone").Candidates));
    }

    [Fact]
    public void A_lower_ranked_job_may_not_take_what_the_held_job_needs_on_the_held_worker()
    {
        var held = Hold("big", cpus: 6, worker: "target", waited: TimeSpan.FromMinutes(10));
        var workers = new[] { Worker("target", cpus: 8, usedCpus: 4), Worker("other", cpus: 8, usedCpus: 6) };

        var small = WorkerSelector.Select(Snapshot(workers, hold: held), Request(cpus: 1));
        var tooMany = WorkerSelector.Select(Snapshot([workers[0]], hold: held), Request(cpus: 1));

        Assert.Equal(["other"], Ids(small.Candidates));
        Assert.DoesNotContain("target", Ids(small.LookedFull));
        Assert.Equal((PendingReasonCode.Held, "1 eligible worker, kept free for a job that has waited longer (waiting for capacity)"), (tooMany.Code, tooMany.WaitReason));
    }

    [Fact]
    public void A_job_that_fits_beside_the_held_job_or_ranks_above_it_or_is_it_may_use_the_held_worker()
    {
        var held = Hold("big", cpus: 4, worker: "target", waited: TimeSpan.FromMinutes(10));
        var snapshot = Snapshot([Worker("target", cpus: 8, usedCpus: 2)], hold: held);

        Assert.Equal(["target"], Ids(WorkerSelector.Select(snapshot, Request(cpus: 2)).Candidates)); // 2 + 4 fit in the 6 free
        Assert.Empty(WorkerSelector.Select(snapshot, Request(cpus: 3)).Candidates);
        Assert.Equal(["target"], Ids(WorkerSelector.Select(snapshot, Request(cpus: 3, priority: 80)).Candidates)); // 80 > 50 + 10 min of aging
        Assert.Equal(["target"], Ids(WorkerSelector.Select(snapshot, Request(cpus: 4, jobId: held.JobId)).Candidates));
    }

    static CapacityHold Hold(string name, int cpus, string worker, TimeSpan waited, int priority = 50) =>
        new(NamedId(name), priority, Now - waited, new Bus.Contracts.ResourceVector(cpus, 0, 0), worker);
}

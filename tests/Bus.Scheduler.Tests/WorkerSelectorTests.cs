using Bus.Contracts;
using Bus.Infrastructure.Redis;
using Bus.Scheduler.Placement;

namespace Bus.Scheduler.Tests;

/// <summary>Placement's choice of workers, and its reasons for waiting, over plain snapshots.</summary>
public sealed class WorkerSelectorTests
{
    [Fact]
    public void The_least_loaded_worker_that_fits_comes_first()
    {
        var workers = new[] { Worker("busy", cpus: 8, usedCpus: 6), Worker("idle", cpus: 8), Worker("half", cpus: 8, usedCpus: 4) };

        var selection = WorkerSelector.Select(workers, Request(cpus: 2));

        Assert.Equal(["idle", "half", "busy"], selection.Candidates.Select(w => w.WorkerId));
        Assert.Null(selection.WaitReason);
    }

    [Fact]
    public void A_worker_without_room_or_free_slots_is_not_a_candidate()
    {
        var workers = new[] { Worker("no-cpus", cpus: 4, usedCpus: 3), Worker("no-slots", cpus: 4, slots: 1, running: 1), Worker("ok", cpus: 4) };

        Assert.Equal(["ok"], WorkerSelector.Select(workers, Request(cpus: 2)).Candidates.Select(w => w.WorkerId));
    }

    [Fact]
    public void A_job_bigger_than_every_worker_says_how_big_the_largest_is()
    {
        var selection = WorkerSelector.Select([Worker("a", cpus: 8), Worker("b", cpus: 4)], Request(cpus: 16));

        Assert.Empty(selection.Candidates);
        Assert.Equal("needs 16 cpus; the largest live worker offering 'shell' has 8", selection.WaitReason);
    }

    [Fact]
    public void A_service_and_language_nobody_offers_is_named()
    {
        var selection = WorkerSelector.Select([Worker("a", cpus: 8, services: ["asr"], languages: ["en"])], Request(service: "asr", language: "zh-en"));

        Assert.Equal("no live worker offers service 'asr' for language 'zh-en'", selection.WaitReason);
    }

    [Fact]
    public void With_no_workers_at_all_the_reason_says_so()
    {
        Assert.Equal("no live worker", WorkerSelector.Select([], Request()).WaitReason);
    }

    [Fact]
    public void The_excluded_worker_is_never_chosen()
    {
        var only = WorkerSelector.Select([Worker("a", cpus: 8)], Request(exclude: "a"));
        var two = WorkerSelector.Select([Worker("a", cpus: 8), Worker("b", cpus: 8, usedCpus: 7)], Request(exclude: "a"));

        Assert.Equal("the excluded worker is the only one eligible", only.WaitReason);
        Assert.Equal(["b"], two.Candidates.Select(w => w.WorkerId));
    }

    [Fact]
    public void Draining_workers_take_no_new_jobs()
    {
        var selection = WorkerSelector.Select([Worker("a", cpus: 8, status: WorkerStatus.Draining)], Request());

        Assert.Empty(selection.Candidates);
        Assert.Equal("no live worker offers service 'shell'", selection.WaitReason);
    }

    [Fact]
    public void When_every_eligible_worker_is_full_the_job_waits_for_capacity()
    {
        var selection = WorkerSelector.Select([Worker("a", cpus: 2, usedCpus: 2), Worker("b", cpus: 2, usedCpus: 1)], Request(cpus: 2));

        Assert.Equal("2 eligible workers, all full (waiting for capacity)", selection.WaitReason);
    }

    static PlacementRequest Request(int cpus = 1, string service = "shell", string? language = null, string? exclude = null) =>
        new(Guid.NewGuid(), 1, service, new ResourceVector(cpus, 0, 0), new PlacementConstraints(language, null, exclude, null));

    static WorkerSnapshot Worker(string id, int cpus, int usedCpus = 0, int? slots = null, int running = 0,
        string[]? services = null, string[]? languages = null, string status = WorkerStatus.Ready) =>
        new(new WorkerRegistration(id, new ResourceVector(cpus, 1024, 0), slots ?? cpus, services ?? ["shell"], languages ?? [], status),
            new ResourceVector(usedCpus, 0, 0), running, DateTimeOffset.UtcNow);
}

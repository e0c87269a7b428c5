using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Scheduler.Placement;
using static Bus.Scheduler.Tests.PlacementData;

namespace Bus.Scheduler.Tests;

/// <summary>
/// The codes each selection step gives, and the explanation built from what the selector recorded: every worker a
/// step left out carries that step's verdict, the rest their rank in the order placement would try them.
/// </summary>
public sealed class PlacementExplanationTests
{
    [Fact]
    public void Each_step_that_leaves_nobody_gives_its_own_code()
    {
        PendingReasonCode CodeOf(IEnumerable<WorkerSnapshot> workers, PlacementRequest request) => WorkerSelector.Select(Snapshot(workers), request).Code;

        Assert.Equal(PendingReasonCode.NoWorkerForService, CodeOf([], Request()));
        Assert.Equal(PendingReasonCode.NoWorkerForService, CodeOf([Worker("a", cpus: 2, services: ["asr"])], Request()));
        Assert.Equal(PendingReasonCode.NoWorkerForLanguage, CodeOf([Worker("a", cpus: 2, languages: ["en"])], Request(language: "zh")));
        Assert.Equal(PendingReasonCode.TooLarge, CodeOf([Worker("a", cpus: 2)], Request(cpus: 3)));
        Assert.Equal(PendingReasonCode.ExcludedOnlyEligible, CodeOf([Worker("a", cpus: 4), Worker("b", cpus: 2)], Request(cpus: 3, exclude: "a")));
        Assert.Equal(PendingReasonCode.Resources, CodeOf([Worker("a", cpus: 2, usedCpus: 2)], Request()));
        Assert.Equal(PendingReasonCode.Unavailable,
            WorkerSelector.Select(Snapshot([Worker("a", cpus: 2)], unavailable: [("a", "shell")]), Request()).Code);
        Assert.Equal(PendingReasonCode.NoPool,
            WorkerSelector.Select(Snapshot([Worker("p-1", cpus: 2, services: ["shell", "asr"])], pools: [Pool("asr-only", services: ["asr"], prefixes: ["p-"])]), Request()).Code);
    }

    [Fact]
    public void Every_worker_gets_the_verdict_of_the_step_that_left_it_out_and_candidates_their_rank()
    {
        var snapshot = Snapshot(
            [
                Worker("idle", cpus: 4),
                Worker("busy", cpus: 4, usedCpus: 2, running: 1),
                Worker("full", cpus: 4, usedCpus: 4, running: 1),
                Worker("draining", cpus: 4, status: WorkerStatus.Draining),
                Worker("asr", cpus: 4, services: ["asr"]),
                Worker("other-language", cpus: 4, languages: ["fr"]),
                Worker("reported", cpus: 4),
                Worker("small", cpus: 1),
                Worker("excluded", cpus: 4),
            ],
            unavailable: [("reported", "shell")]);
        var request = Request(cpus: 2, exclude: "excluded");
        var passedOver = new List<(PooledWorker, WorkerVerdict)>();

        var selection = WorkerSelector.Select(snapshot, request, passedOver: passedOver);
        var explained = PlacementExplanation.Of(snapshot, request, selection, passedOver);
        var byId = explained.Workers.ToDictionary(w => w.WorkerId);

        // The explanation's outcome is the selection's: its first candidate, and no reason.
        Assert.Equal(selection.Candidates[0].WorkerId, explained.WorkerId);
        Assert.Equal("idle", explained.WorkerId);
        Assert.Null(explained.PendingReasonCode);
        Assert.Equal(snapshot.Workers.Count, explained.Workers.Length);
        Assert.Equal(
            new Dictionary<string, WorkerVerdict>
            {
                ["idle"] = WorkerVerdict.Candidate, ["busy"] = WorkerVerdict.Candidate, ["full"] = WorkerVerdict.Full,
                ["draining"] = WorkerVerdict.NotReady, ["asr"] = WorkerVerdict.NoService, ["other-language"] = WorkerVerdict.Candidate,
                ["reported"] = WorkerVerdict.Unavailable, ["small"] = WorkerVerdict.TooSmall, ["excluded"] = WorkerVerdict.Excluded,
            },
            byId.ToDictionary(w => w.Key, w => w.Value.Verdict));
        Assert.Equal(["idle", "other-language", "busy", "full"], explained.Workers.Where(w => w.Rank is not null).Select(w => w.WorkerId));
        Assert.Equal([1, 2, 3, 4], explained.Workers.Where(w => w.Rank is not null).Select(w => w.Rank!.Value));
        Assert.Equal(0.5, byId["busy"].Load);
        Assert.Equal(Now.AddSeconds(30), byId["reported"].UnavailableUntil);
        Assert.Equal("free 0 cpus/1024 MB/0 gpus < needed 2 cpus/0 MB/0 gpus", byId["full"].Detail);
        Assert.False(explained.FirstChoiceIsRandom); // the snapshot balances by least load
    }

    [Fact]
    public void A_job_that_would_wait_is_explained_with_the_code_and_sentence_placement_would_store()
    {
        var snapshot = Snapshot([Worker("a", cpus: 2, languages: ["en"])]);
        var request = Request(language: "zh");
        var passedOver = new List<(PooledWorker, WorkerVerdict)>();

        var selection = WorkerSelector.Select(snapshot, request, passedOver: passedOver);
        var explained = PlacementExplanation.Of(snapshot, request, selection, passedOver);

        Assert.Null(explained.WorkerId);
        Assert.Equal((PendingReasonCode.NoWorkerForLanguage, selection.Reason), (explained.PendingReasonCode!.Value, explained.PendingReason));
        Assert.Equal(WorkerVerdict.NoLanguage, Assert.Single(explained.Workers).Verdict);
        Assert.Null(explained.Workers[0].Rank);
    }
}

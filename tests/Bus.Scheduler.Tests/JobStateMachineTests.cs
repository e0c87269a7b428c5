using Bus.Capacity.Ledger;
using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Scheduler.Extensions;
using Bus.Scheduler.Placement;
using Bus.Scheduler.StateMachines;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.Tests;

/// <summary>
/// The job lifecycle on MassTransit's in-memory harness, registered as the scheduler registers it, with placement and
/// the allocation record stood in for.
/// </summary>
public sealed class JobStateMachineTests : IAsyncLifetime
{
    readonly FakePlacement _placement = new();
    readonly FakeRecorder _recorder = new();
    ServiceProvider _provider = null!;
    ITestHarness _harness = null!;
    ISagaStateMachineTestHarness<JobStateMachine, JobState> _saga = null!;

    public async Task InitializeAsync()
    {
        _provider = new ServiceCollection()
            .AddSingleton<IPlacementEngine>(_placement)
            .AddSingleton<IAllocationRecorder>(_recorder)
            .AddSingleton(TimeProvider.System)
            .Configure<SchedulerOptions>(o => o.RetryBaseDelay = TimeSpan.FromSeconds(30))
            .AddJobSagaActivities()
            .AddMassTransitTestHarness(x =>
            {
                // The scheduler's registration: the production definition (queue, concurrency, in-memory outbox) and
                // the bus-wide ride-through retry, on the harness's in-memory transport and saga repository.
                x.AddSagaStateMachine<JobStateMachine, JobState, JobStateDefinition>();
                x.UsingInMemory((context, cfg) =>
                {
                    cfg.UseRideThrough(new RideThroughOptions());
                    cfg.ConfigureEndpoints(context);
                });
            })
            .BuildServiceProvider(true);
        _harness = _provider.GetRequiredService<ITestHarness>();
        await _harness.Start();
        _saga = _harness.GetSagaStateMachineHarness<JobStateMachine, JobState>();
    }

    public async Task DisposeAsync()
    {
        await _harness.Stop();
        await _provider.DisposeAsync();
    }

    [Fact]
    public async Task A_submitted_job_that_fits_is_allocated_and_sent_to_its_worker()
    {
        _placement.Next = new PlacementDecision.Placed("w1");
        var job = Submit();
        await _harness.Bus.Publish(job);

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Allocated));
        var sent = _harness.Sent.Select<RunJob>().Single().Context.Message;
        Assert.Equal((job.JobId, 1, "w1"), (sent.JobId, sent.Attempt, sent.WorkerId));
        Assert.Equal(job.Command, sent.Command);
        Assert.EndsWith("/worker-w1", _harness.Sent.Select<RunJob>().Single().Context.DestinationAddress!.AbsolutePath);
    }

    [Fact]
    public async Task A_job_nothing_can_take_waits_pending_with_the_reason()
    {
        _placement.Next = new PlacementDecision.Waiting(PendingReasonCode.TooLarge, "needs 16 cpus; the largest live worker offering 'shell' has 8");
        var job = Submit();
        await _harness.Bus.Publish(job);

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Pending));
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal("needs 16 cpus; the largest live worker offering 'shell' has 8", state.PendingReason);
        Assert.False(await _harness.Sent.Any<RunJob>());
    }

    [Fact]
    public async Task A_pending_job_is_placed_when_offered_again_after_capacity_appears()
    {
        _placement.Next = new PlacementDecision.Waiting(PendingReasonCode.Resources, "1 eligible worker, full (waiting for capacity)");
        var job = Submit();
        await _harness.Bus.Publish(job);
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Pending));

        _placement.Next = new PlacementDecision.Placed("w2");
        await _harness.Bus.Publish(new PlaceJob(job.JobId));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Allocated));
        Assert.Null(_saga.Sagas.Contains(job.JobId)!.PendingReason);
    }

    [Fact]
    public async Task A_job_runs_and_completes_with_its_exit_code_and_output_and_its_allocation_released()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(new JobStarted(job.JobId, 1, "w1", 4242, DateTimeOffset.UtcNow));
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Running));

        await _harness.Bus.Publish(new JobCompleted(job.JobId, 1, "w1", 0, "hello\n", DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Completed));
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((0, "hello\n"), (state.ExitCode, state.Output));
        Assert.Contains((job.JobId, 1, (int?)4242), _recorder.Starts);
        Assert.Contains(("w1", job.JobId, 1), _recorder.Releases);
    }

    [Fact]
    public async Task A_completion_that_overtakes_its_start_still_completes_the_job()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(new JobCompleted(job.JobId, 1, "w1", 0, "", DateTimeOffset.UtcNow));
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Completed));

        await _harness.Bus.Publish(new JobStarted(job.JobId, 1, "w1", 1, DateTimeOffset.UtcNow));
        Assert.True(await _harness.Consumed.Any<JobStarted>(x => x.Context.Message.JobId == job.JobId));
        Assert.Equal(_saga.StateMachine.Completed.Name, _saga.Sagas.Contains(job.JobId)!.CurrentState);
    }

    [Fact]
    public async Task A_completion_that_overtakes_its_start_still_shows_when_the_job_started()
    {
        var job = await Allocated("w1");
        var started = DateTimeOffset.UtcNow.AddMilliseconds(-5);
        await _harness.Bus.Publish(new JobCompleted(job.JobId, 1, "w1", 0, "", DateTimeOffset.UtcNow, started));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Completed));
        Assert.Equal(started, _saga.Sagas.Contains(job.JobId)!.StartedAt);
    }

    [Fact]
    public async Task A_failed_attempt_records_the_exit_code_and_error()
    {
        var job = await Allocated("w1", maxAttempts: 1);
        await _harness.Bus.Publish(new JobFailed(job.JobId, 1, "w1", 3, "oops\n", "exited with code 3", DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Failed));
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((3, "exited with code 3"), (state.ExitCode, state.Error));
        Assert.Contains(("w1", job.JobId, 1), _recorder.Releases);
    }

    [Fact]
    public async Task A_report_from_another_attempt_changes_nothing()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(new JobCompleted(job.JobId, 7, "w9", 0, "stale", DateTimeOffset.UtcNow));
        Assert.True(await _harness.Consumed.Any<JobCompleted>(x => x.Context.Message.Attempt == 7));

        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal(_saga.StateMachine.Allocated.Name, state.CurrentState);
        Assert.Null(state.Output);
        Assert.Empty(_recorder.Releases);
    }

    [Fact]
    public async Task A_duplicate_submission_neither_places_again_nor_changes_the_job()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(job with { Priority = 99 });
        Assert.True(await _harness.Consumed.Any<SubmitJob>(x => x.Context.Message.Priority == 99));

        Assert.Equal(1, _placement.Calls);
        Assert.Equal(job.Priority, _saga.Sagas.Contains(job.JobId)!.Priority);
        Assert.Single(_harness.Sent.Select<RunJob>());
    }

    [Fact]
    public async Task A_failed_attempt_with_attempts_left_becomes_a_new_attempt_waiting_out_its_backoff()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(new JobFailed(job.JobId, 1, "w1", 1, "", "exited with code 1", DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Pending));
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((2, 1), (state.Attempt, state.Failures));
        Assert.Null(state.WorkerId);
        Assert.InRange(state.NotBefore!.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(31));
        Assert.StartsWith("attempt 1 failed (exited with code 1); attempt 2 of at most 3 waits until", state.PendingReason);

        // Offered again inside the backoff: placement is not even asked.
        var calls = _placement.Calls;
        await _harness.Bus.Publish(new PlaceJob(job.JobId));
        Assert.True(await _harness.Consumed.Any<PlaceJob>(x => x.Context.Message.JobId == job.JobId));
        Assert.Equal(calls, _placement.Calls);
    }

    [Fact]
    public async Task The_last_allowed_failure_fails_the_job()
    {
        var job = await Allocated("w1", maxAttempts: 1);
        await _harness.Bus.Publish(new JobFailed(job.JobId, 1, "w1", 2, "", "exited with code 2", DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Failed));
        Assert.Equal(1, _saga.Sagas.Contains(job.JobId)!.Failures);
    }

    [Fact]
    public async Task Cancelling_a_pending_job_cancels_it_at_once()
    {
        _placement.Next = new PlacementDecision.Waiting(PendingReasonCode.NoWorkerForService, "no live worker");
        var job = Submit();
        await _harness.Bus.Publish(job);
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Pending));

        await _harness.Bus.Publish(new CancelJob(job.JobId, DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Cancelled));
        Assert.False(await _harness.Sent.Any<StopJob>());
    }

    [Fact]
    public async Task Cancelling_a_running_job_stops_it_on_its_worker_and_cancels_once_the_worker_reports()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(new JobStarted(job.JobId, 1, "w1", 7, DateTimeOffset.UtcNow));
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Running));

        await _harness.Bus.Publish(new CancelJob(job.JobId, DateTimeOffset.UtcNow));
        Assert.True(await _harness.Sent.Any<StopJob>(x => x.Context.Message.JobId == job.JobId));
        var stop = _harness.Sent.Select<StopJob>().Single().Context.Message;
        Assert.Equal((1, "w1", StopReason.Cancelled), (stop.Attempt, stop.WorkerId, stop.Reason));
        Assert.Equal(_saga.StateMachine.Running.Name, _saga.Sagas.Contains(job.JobId)!.CurrentState);

        await _harness.Bus.Publish(new JobStopped(job.JobId, 1, "w1", StopReason.Cancelled, "partial", DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Cancelled));
        Assert.Contains(("w1", job.JobId, 1), _recorder.Releases);
    }

    [Fact]
    public async Task An_attempt_killed_for_its_timeout_ends_TimedOut()
    {
        var job = await Allocated("w1");
        await _harness.Bus.Publish(new JobStopped(job.JobId, 1, "w1", StopReason.TimedOut, "", DateTimeOffset.UtcNow));

        Assert.NotNull(await _saga.Exists(job.JobId, x => x.TimedOut));
        Assert.Contains(("w1", job.JobId, 1), _recorder.Releases);
    }

    [Fact]
    public async Task An_attempt_handed_back_by_a_stopping_worker_is_placed_again_without_counting_as_a_failure()
    {
        var job = await Allocated("w1");
        _placement.Next = new PlacementDecision.Placed("w2");
        await _harness.Bus.Publish(new JobStopped(job.JobId, 1, "w1", StopReason.HandedBack, "", DateTimeOffset.UtcNow));

        Assert.True(await _harness.Sent.Any<RunJob>(x => x.Context.Message.Attempt == 2));
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((2, "w2", 0), (state.Attempt, state.WorkerId, state.Failures));
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Allocated));
    }

    [Fact]
    public async Task An_attempt_lost_with_its_worker_counts_as_a_failure_and_is_placed_again_at_once()
    {
        var job = await Allocated("w1");
        _placement.Next = new PlacementDecision.Placed("w2");
        await _harness.Bus.Publish(new JobAttemptLost(job.JobId, 1, "w1", DateTimeOffset.UtcNow, "worker w1 stopped heartbeating"));

        Assert.True(await _harness.Sent.Any<RunJob>(x => x.Context.Message.Attempt == 2));
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((2, "w2", 1), (state.Attempt, state.WorkerId, state.Failures));
        Assert.Contains(("w1", job.JobId, 1), _recorder.Releases);
    }

    [Fact]
    public async Task A_late_completion_from_attempt_1_changes_nothing_once_attempt_2_runs()
    {
        var job = await Allocated("w1");
        _placement.Next = new PlacementDecision.Placed("w2");
        await _harness.Bus.Publish(new JobStopped(job.JobId, 1, "w1", StopReason.HandedBack, "", DateTimeOffset.UtcNow));
        Assert.True(await _harness.Sent.Any<RunJob>(x => x.Context.Message.Attempt == 2));
        await _harness.Bus.Publish(new JobStarted(job.JobId, 2, "w2", 9, DateTimeOffset.UtcNow));
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Running));

        await _harness.Bus.Publish(new JobCompleted(job.JobId, 1, "w1", 0, "stale", DateTimeOffset.UtcNow));
        Assert.True(await _harness.Consumed.Any<JobCompleted>(x => x.Context.Message.Output == "stale"));

        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((_saga.StateMachine.Running.Name, 2, "w2"), (state.CurrentState, state.Attempt, state.WorkerId));
        Assert.DoesNotContain(_recorder.Releases, r => r.Item1 == "w2");
    }

    [Fact]
    public async Task A_report_retried_after_a_fault_sends_its_messages_once_and_counts_its_failure_once()
    {
        var job = await Allocated("w1");
        _placement.Next = new PlacementDecision.Placed("w2");
        // The first try sends StopJob, then fails to release (Redis went away): the ride-through retry handles
        // the report again, and the outbox drops what the failed try sent.
        _recorder.FailNextRelease = true;
        await _harness.Bus.Publish(new JobAttemptLost(job.JobId, 1, "w1", DateTimeOffset.UtcNow, "worker w1 stopped heartbeating"));

        Assert.True(await _harness.Sent.Any<RunJob>(x => x.Context.Message.Attempt == 2));
        Assert.True(await _harness.Sent.Any<StopJob>(x => x.Context.Message.JobId == job.JobId));
        Assert.Single(_harness.Sent.Select<StopJob>(x => x.Context.Message.JobId == job.JobId));
        Assert.Single(_harness.Sent.Select<RunJob>(x => x.Context.Message.Attempt == 2));
        Assert.False(_recorder.FailNextRelease);
        var state = _saga.Sagas.Contains(job.JobId)!;
        Assert.Equal((2, "w2", 1), (state.Attempt, state.WorkerId, state.Failures));
        Assert.Equal([("w1", job.JobId, 1)], _recorder.Releases);
    }

    async Task<SubmitJob> Allocated(string workerId, int maxAttempts = 3)
    {
        _placement.Next = new PlacementDecision.Placed(workerId);
        var job = Submit() with { MaxAttempts = maxAttempts };
        await _harness.Bus.Publish(job);
        Assert.NotNull(await _saga.Exists(job.JobId, x => x.Allocated));
        return job;
    }

    static SubmitJob Submit() => new(
        Guid.NewGuid(), "t1", $"req-{Guid.NewGuid():N}", "shell", ["/bin/echo", "hi"], null,
        new ResourceVector(1, 0, 0), new PlacementConstraints(null, null, null, null), 50, 60, 3, DateTimeOffset.UtcNow);

    sealed class FakePlacement : IPlacementEngine
    {
        public PlacementDecision Next { get; set; } = new PlacementDecision.Waiting(PendingReasonCode.Resources, "not set");
        public int Calls;

        public Task<PlacementDecision> Place(PlacementRequest request)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(Next);
        }
    }

    sealed class FakeRecorder : IAllocationRecorder
    {
        public readonly List<(Guid, int, int?)> Starts = [];
        public readonly List<(string, Guid, int)> Releases = [];

        public Task Started(Guid jobId, int attempt, int? processId)
        {
            lock (Starts) Starts.Add((jobId, attempt, processId));
            return Task.CompletedTask;
        }

        /// <summary>When set, the next release throws (and clears it), as a release during an outage does.</summary>
        public volatile bool FailNextRelease;

        public Task<AllocationRelease> Released(string workerId, Guid jobId, int attempt)
        {
            lock (Releases)
            {
                if (FailNextRelease)
                {
                    FailNextRelease = false;
                    throw new TimeoutException("the reservation could not be given back: Redis went away");
                }
                Releases.Add((workerId, jobId, attempt));
            }
            return Task.FromResult(new AllocationRelease(jobId, attempt, DateTimeOffset.UtcNow));
        }

        public Task ReleasedAll(Guid jobId, IReadOnlyCollection<int> releasedWithTheWrite) => Task.CompletedTask;
    }
}

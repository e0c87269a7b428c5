using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>
/// Workers that die, stop, drain or restart while they run a job, with real processes. Each test brings its own
/// workers, advertising a language no other worker has, and its jobs ask for that language: so a test's jobs run
/// only on its own workers, whatever order the tests run in.
/// </summary>
public sealed class WorkerFailureTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    [Fact]
    public async Task When_a_worker_is_killed_its_job_runs_again_elsewhere_and_its_capacity_is_gone()
    {
        var doomed = await StartWorker("doomed", "kill");
        var jobId = await Submit("kill", SlowFirstTime());
        Assert.Equal("doomed", (string?)(await system.WaitForJob(jobId, "Running"))["workerId"]);

        doomed.KillHard();
        await StartWorker("rescuer", "kill");

        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 2, "rescuer", "finished\n"),
            ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"], (string?)job["output"]));
        Assert.DoesNotContain("doomed", await system.WorkerIds());
    }

    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_hands_its_job_back_and_exits_cleanly()
    {
        var draining = await StartWorker("terminated", "term", ("Worker__ShutdownGracePeriod", "00:00:01"));
        // maxAttempts 1: only a hand-back, which is not a failure, lets the job run a second time.
        var jobId = await Submit("term", SlowFirstTime(), maxAttempts: 1);
        Assert.Equal("terminated", (string?)(await system.WaitForJob(jobId, "Running"))["workerId"]);
        await StartWorker("taker", "term");

        await draining.Terminate(TimeSpan.FromSeconds(30));

        Assert.Equal(0, draining.ExitCode);
        Assert.DoesNotContain("terminated", await system.WorkerIds());
        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 2, "taker"), ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"]));
    }

    [Fact]
    public async Task A_drained_worker_finishes_its_job_takes_no_new_one_and_unregisters_but_keeps_running()
    {
        var drained = await StartWorker("drained", "drain");
        var first = await Submit("drain", ["/bin/sh", "-c", "sleep 2; echo done"]);
        Assert.Equal("drained", (string?)(await system.WaitForJob(first, "Running"))["workerId"]);

        Assert.Equal(HttpStatusCode.Accepted, (await system.Api.PostAsync("/api/v1/workers/drained/drain", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await system.Client(RunningSystem.UserKey).PostAsync("/api/v1/workers/drained/drain", null)).StatusCode);
        await Eventually.Get(async () => (await system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!
                .FirstOrDefault(w => (string?)w!["workerId"] == "drained")?["status"]?.GetValue<string>(),
            status => status == "draining", TimeSpan.FromSeconds(10), "the worker listed as draining");
        var second = await Submit("drain", ["/bin/true"]);

        Assert.Equal("Completed", (string?)(await system.WaitForJob(first, "Completed", "Failed"))["state"]);
        await Eventually.Get(system.WorkerIds, ids => !ids.Contains("drained"), TimeSpan.FromSeconds(15), "the drained worker unregistered");
        Assert.False(drained.HasExited);
        var waiting = (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{second}"))!;
        Assert.Equal(("Pending", null), ((string?)waiting["state"], (string?)waiting["workerId"]));
        await system.Api.PostAsync($"/api/v1/jobs/{second}/cancel", null);
    }

    [Fact]
    public async Task A_job_dies_with_its_killed_worker_at_once_and_is_retried_when_the_worker_restarts()
    {
        var first = await StartWorker("phoenix", "restart");
        var jobId = await Submit("restart", SlowFirstTime());
        await system.WaitForJob(jobId, "Running");
        var orphan = await Eventually.Get(() => ProcessId(jobId, attempt: 1), pid => pid is not null, TimeSpan.FromSeconds(10), "the process id recorded");

        // Nobody restarts the worker yet: the launcher's watchdog alone sees it die and kills the job, so a job cannot
        // finish unseen and then run a second time.
        first.KillHard();
        await Eventually.Get(() => Task.FromResult(Processes.Alive(orphan!.Value)), alive => !alive, TimeSpan.FromSeconds(10),
            $"job process {orphan} killed with its worker");
        await StartWorker("phoenix", "restart");

        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 2, "finished\n"), ((string?)job["state"], (int?)job["attempt"], (string?)job["output"]));
    }

    [Fact]
    public async Task A_job_that_ended_before_its_worker_was_killed_unrecorded_is_reported_from_its_exit_note_and_never_run_again()
    {
        // A frozen worker stops heartbeating; a long registration keeps it from being declared lost meanwhile, which
        // would run the job again elsewhere whatever the note says (a host cut off is at-least-once).
        (string, string) registration = ("Worker__RegistrationTtl", "00:02:00");
        var first = await StartWorker("amnesiac", "note", registration);
        var ledger = Path.Combine(Path.GetTempPath(), $"bus-runs-{Guid.NewGuid():N}");
        var jobId = await Submit("note", ["/bin/sh", "-c", $"sleep 2; echo ran >> {ledger}; exit 0"]);
        await system.WaitForJob(jobId, "Running");

        // Frozen, the worker cannot see the job end; killed, it never will. The job still ends by itself meanwhile:
        // what the restarted worker learns of that comes only from the note its process left.
        first.Freeze();
        var note = Path.Combine(system.WorkerState("amnesiac"), $"{Guid.Parse(jobId):N}.1.exit");
        await Eventually.Get(() => Task.FromResult(File.Exists(note) && File.Exists(ledger)), noted => noted,
            TimeSpan.FromSeconds(30), "the job ended and noted its exit status");
        first.KillHard();
        await StartWorker("amnesiac", "note", registration);

        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 1, "amnesiac"), ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"]));
        Assert.Equal(["ran"], File.ReadAllLines(ledger));
        Assert.False(File.Exists(note)); // the report it became is in the journal now
        File.Delete(ledger);
    }

    [Fact]
    public async Task A_second_process_with_a_live_workers_id_refuses_to_start_and_the_first_ones_job_runs_on()
    {
        await StartWorker("twin", "twin");
        var jobId = await Submit("twin", ["/bin/sh", "-c", "sleep 4; echo survived"]);
        await system.WaitForJob(jobId, "Running");

        // Started, it would clear the id's cgroups as an earlier process's leftovers, the first one's running job with them.
        var second = system.StartWorkerProcess("twin", ("Worker__Languages__0", "twin"), ("Worker__Cpus", "2"));
        await second.Exited(TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("Another process of worker 'twin' runs on this host", second.Output);

        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 1, "survived\n"), ((string?)job["state"], (int?)job["attempt"], (string?)job["output"]));
    }

    [Fact]
    public async Task An_attempt_whose_RunJob_is_lost_is_sent_again_then_placed_elsewhere_and_never_runs_twice()
    {
        // A ghost: registered in Redis, but no process consumes its queue, so its RunJob is as good as lost.
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var registry = new Bus.Capacity.Workers.WorkerRegistry(redis, new Bus.Capacity.Redis.RedisKeys(system.KeyPrefix), TimeProvider.System);
        Bus.Capacity.Workers.WorkerRegistration Ghost(string status) =>
            new("ghost", new Bus.Contracts.ResourceVector(2, 1024, 0), 2, ["shell"], ["lease"], status);
        await registry.Register(Ghost(Bus.Capacity.Workers.WorkerStatus.Ready), TimeSpan.FromMinutes(5));
        var ledger = Path.Combine(Path.GetTempPath(), $"bus-runs-{Guid.NewGuid():N}");
        var jobId = await Submit("lease", ["/bin/sh", "-c", $"echo ran >> {ledger}"]);
        Assert.Equal("ghost", (string?)(await system.WaitForJob(jobId, "Allocated"))["workerId"]);
        await registry.Register(Ghost(Bus.Capacity.Workers.WorkerStatus.Draining), TimeSpan.FromMinutes(5));
        await StartWorker("real", "lease");

        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 2, "real"), ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"]));

        // Now the ghost comes to life and finds attempt 1's RunJob in its queue: the attempt no longer holds a
        // reservation, so it must not run.
        var ghost = system.StartWorkerProcess("ghost", ("Worker__Languages__0", "lease"));
        await Eventually.Get(() => Task.FromResult(ghost.Output), o => o.Contains("no longer holds a reservation"),
            TimeSpan.FromSeconds(60), "the ghost refusing the stale attempt");
        Assert.Equal(["ran"], File.ReadAllLines(ledger));
        File.Delete(ledger);
    }

    Task<ServiceProcess> StartWorker(string workerId, string language, params (string Key, string Value)[] settings) =>
        system.StartWorker(workerId, cpus: 2, [("Worker__Languages__0", language), .. settings]);

    async Task<string> Submit(string language, string[] command, int maxAttempts = 3)
    {
        var (_, accepted) = await system.Submit(new
        {
            requestId = $"{language}-{Guid.NewGuid():N}",
            command,
            constraints = new { language },
            maxAttempts,
        });
        return (string)accepted["jobId"]!;
    }

    async Task<int?> ProcessId(string jobId, int attempt)
    {
        await using var command = system.Database.DataSource.CreateCommand(
            "SELECT process_id FROM resource_allocations WHERE job_id = $1 AND attempt = $2");
        command.Parameters.AddWithValue(Guid.Parse(jobId));
        command.Parameters.AddWithValue(attempt);
        return await command.ExecuteScalarAsync() as int?;
    }

    /// <summary>
    /// A command whose first run outlasts any test (so the worker is surely stopped while it runs) and whose later
    /// runs finish at once. A first run orphaned by a kill -9 ends by itself after a minute.
    /// </summary>
    static string[] SlowFirstTime()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"bus-first-run-{Guid.NewGuid():N}");
        return ["/bin/sh", "-c", $"if [ -f {marker} ]; then rm {marker}; echo finished; else touch {marker}; sleep 60; fi"];
    }
}

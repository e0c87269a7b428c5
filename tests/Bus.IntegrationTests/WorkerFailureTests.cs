using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.IntegrationTests.Support;

namespace Bus.IntegrationTests;

/// <summary>
/// Workers that die or stop while they run a job, with real processes. Each test brings its own workers, sized so
/// that its job fits only them: 8 cpus, one gpu, two gpus (the fixture's workers have neither), whatever order
/// the tests run in.
/// </summary>
public sealed class WorkerFailureTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    [Fact]
    public async Task When_a_worker_is_killed_its_job_runs_again_elsewhere_and_its_capacity_is_gone()
    {
        var doomed = await system.StartWorker("doomed", cpus: 8);
        var (_, accepted) = await system.Submit(new { requestId = $"kill-{Guid.NewGuid():N}", command = SlowFirstTime(), resources = new { cpus = 8 } });
        var jobId = (string)accepted["jobId"]!;
        var running = await system.WaitForJob(jobId, "Running");
        Assert.Equal("doomed", (string?)running["workerId"]);

        doomed.KillHard();
        await system.StartWorker("rescuer", cpus: 8);

        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 2, "rescuer", "finished\n"),
            ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"], (string?)job["output"]));
        Assert.DoesNotContain("doomed", await system.WorkerIds());
    }

    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_hands_its_job_back_and_exits_cleanly()
    {
        var draining = await system.StartWorker("draining", cpus: 2, ("Worker__Gpus", "1"), ("Worker__ShutdownGracePeriod", "00:00:01"));
        var (_, accepted) = await system.Submit(new { requestId = $"term-{Guid.NewGuid():N}", command = SlowFirstTime(), resources = new { cpus = 1, gpus = 1 }, maxAttempts = 1 });
        var jobId = (string)accepted["jobId"]!;
        Assert.Equal("draining", (string?)(await system.WaitForJob(jobId, "Running"))["workerId"]);
        await system.StartWorker("taker", cpus: 2, ("Worker__Gpus", "1"));

        await draining.Terminate(TimeSpan.FromSeconds(30));

        Assert.Equal(0, draining.ExitCode);
        Assert.DoesNotContain("draining", await system.WorkerIds());
        // maxAttempts is 1: only a hand-back, which is not a failure, lets the job run a second time.
        var job = await system.WaitForJob(jobId, "Completed", "Failed");
        Assert.Equal(("Completed", 2, "taker"), ((string?)job["state"], (int?)job["attempt"], (string?)job["workerId"]));
    }

    [Fact]
    public async Task A_drained_worker_finishes_its_job_takes_no_new_one_and_unregisters_but_keeps_running()
    {
        var drained = await system.StartWorker("drained", cpus: 2, ("Worker__Gpus", "2"));
        var (_, first) = await system.Submit(new { requestId = $"drain-{Guid.NewGuid():N}", command = new[] { "/bin/sh", "-c", "sleep 2; echo done" }, resources = new { gpus = 2 } });
        Assert.Equal("drained", (string?)(await system.WaitForJob((string)first["jobId"]!, "Running"))["workerId"]);

        var drain = await system.Api.PostAsync("/api/v1/workers/drained/drain", null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, drain.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden,
            (await system.Client(RunningSystem.UserKey).PostAsync("/api/v1/workers/drained/drain", null)).StatusCode);
        await Eventually.Get(async () => (await system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!
                .FirstOrDefault(w => (string?)w!["workerId"] == "drained")?["status"]?.GetValue<string>(),
            status => status == "draining", TimeSpan.FromSeconds(10), "the worker listed as draining");
        var (_, second) = await system.Submit(new { requestId = $"drain-{Guid.NewGuid():N}", command = new[] { "/bin/true" }, resources = new { gpus = 2 } });

        Assert.Equal("Completed", (string?)(await system.WaitForJob((string)first["jobId"]!, "Completed", "Failed"))["state"]);
        await Eventually.Get(system.WorkerIds, ids => !ids.Contains("drained"), TimeSpan.FromSeconds(15), "the drained worker unregistered");
        Assert.False(drained.HasExited);
        var waiting = (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{second["jobId"]}"))!;
        Assert.Equal(("Pending", null), ((string?)waiting["state"], (string?)waiting["workerId"]));
        await system.Api.PostAsync($"/api/v1/jobs/{second["jobId"]}/cancel", null);
    }

    /// <summary>
    /// A command whose first run outlasts any test (so the worker is surely stopped while it runs) and whose later
    /// runs finish at once. The first run's sleep is orphaned by a kill -9 and ends by itself.
    /// </summary>
    static string[] SlowFirstTime()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"bus-first-run-{Guid.NewGuid():N}");
        return ["/bin/sh", "-c", $"if [ -f {marker} ]; then rm {marker}; echo finished; else touch {marker}; sleep 60; fi"];
    }
}

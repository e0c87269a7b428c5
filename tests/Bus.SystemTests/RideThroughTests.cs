using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>The whole system with PostgreSQL and RabbitMQ behind gates a test can close (see <see cref="TcpGate"/>).</summary>
public sealed class GatedSystem : IAsyncLifetime
{
    public RunningSystem System { get; } = new(new Dictionary<string, string>(), gated: true);

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

/// <summary>
/// Outages of PostgreSQL and RabbitMQ, as the services see them: their connections cut and new ones refused, while
/// the servers themselves (which other tests use) stay up. The tests share one system and take turns.
/// </summary>
public sealed class RideThroughTests(GatedSystem gated) : IClassFixture<GatedSystem>
{
    readonly RunningSystem _system = gated.System;

    [Fact]
    public async Task Jobs_caught_in_a_PostgreSQL_outage_longer_than_the_old_retries_all_complete_once_and_nothing_is_dead_lettered()
    {
        var ledger = Path.Combine(Path.GetTempPath(), $"bus-runs-{Guid.NewGuid():N}");
        var jobs = new List<string>();
        // Two waves on the system's 6 cpus: the first ends during the outage, the second cannot start until it is over.
        for (var i = 0; i < 12; i++)
            jobs.Add(await Submit(["/bin/sh", "-c", $"echo {i} >> {ledger}; sleep 4"]));
        await _system.WaitForJob(jobs[0], "Running", "Completed");

        _system.PostgresGate!.Close();
        var outage = Stopwatch.StartNew();
        // Held long enough that the saga's former retries (about 4 s in all) would have dead-lettered what it holds.
        await Eventually.Get(QueueMessages, messages => outage.Elapsed > TimeSpan.FromSeconds(12) && messages.Unacknowledged > 0,
            TimeSpan.FromSeconds(60), "the saga holding messages through a 12 s outage");
        _system.PostgresGate.Open();

        foreach (var job in jobs)
            Assert.Equal("Completed", (string?)(await WaitLong(job))["state"]);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i.ToString()).Order(), File.ReadAllLines(ledger).Order());
        Assert.Equal(0, await ErrorQueueMessages());
        File.Delete(ledger);
    }

    [Fact]
    public async Task A_job_submitted_while_RabbitMQ_is_down_is_accepted_and_runs_once_the_broker_is_back()
    {
        _system.RabbitGate!.Close();
        string jobId;
        try
        {
            var (status, accepted) = await _system.Submit(new { requestId = $"broker-down-{Guid.NewGuid():N}", command = new[] { "/bin/echo", "later" } });
            Assert.Equal(HttpStatusCode.Accepted, status);
            jobId = (string)accepted["jobId"]!;
            // Shown from its request row until the scheduler takes it up: pending, with the gateway's own code.
            var waiting = (await _system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!;
            Assert.Equal(("Pending", "Submitted"), ((string?)waiting["state"], (string?)waiting["pendingReasonCode"]));
            // No scheduler can be asked where a job would go: a 503 to retry, not a hang or a 500.
            var explain = await _system.Api.PostAsJsonAsync("/api/v1/jobs:explain", new { requestId = "explain-broker-down", command = new[] { "/bin/true" } });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, explain.StatusCode);
            Assert.Equal("application/problem+json", explain.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(explain.Headers.RetryAfter);
        }
        finally
        {
            _system.RabbitGate.Open();
        }
        var job = await WaitLong(jobId);
        Assert.Equal(("Completed", "later\n"), ((string?)job["state"], (string?)job["output"]));
    }

    [Fact]
    public async Task An_array_submitted_while_RabbitMQ_is_down_is_accepted_whole_and_every_job_runs_once_the_broker_is_back()
    {
        var run = $"batch-broker-down-{Guid.NewGuid():N}";
        var jobs = Enumerable.Range(0, 200).Select(i => (object)new { requestId = $"{run}-{i}", service = "noop" }).ToArray();
        _system.RabbitGate!.Close();
        JsonObject batch;
        try
        {
            (var status, batch) = await _system.SubmitBatch(jobs);
            Assert.Equal(HttpStatusCode.Accepted, status);
            Assert.Equal(200, (int)batch["accepted"]!);
        }
        finally
        {
            _system.RabbitGate.Open();
        }

        // The gateway's sends timed out against the closed broker; the outbox relay resends the batch's 200 rows, and
        // the saga takes each job once however many sends reach it.
        var jobIds = batch["jobs"]!.AsArray().Select(a => (Guid)a!["jobId"]!).ToArray();
        await using var completed = _system.Database.DataSource.CreateCommand(
            "SELECT count(*) FILTER (WHERE current_state = 'Completed'), count(*) FILTER (WHERE attempt > 1) FROM jobs WHERE job_id = ANY($1)");
        completed.Parameters.AddWithValue(jobIds);
        var (done, retried) = await Eventually.Get(async () =>
        {
            await using var reader = await completed.ExecuteReaderAsync();
            await reader.ReadAsync();
            return (reader.GetInt64(0), reader.GetInt64(1));
        }, counts => counts.Item1 == 200, TimeSpan.FromSeconds(120), "all 200 jobs of the batch Completed");
        Assert.Equal((200, 0), (done, retried));
    }

    [Fact]
    public async Task A_final_report_the_broker_never_confirmed_is_sent_by_the_restarted_worker_and_the_job_does_not_run_again()
    {
        // A long registration, so the worker is not declared lost while it is down: this is about its report.
        var worker = await _system.StartWorker("reporter", 2, ("Worker__Languages__0", "report"), ("Worker__RegistrationTtl", "00:02:00"));
        var ledger = Path.Combine(Path.GetTempPath(), $"bus-runs-{Guid.NewGuid():N}");
        var (_, accepted) = await _system.Submit(new
        {
            requestId = $"report-{Guid.NewGuid():N}", command = new[] { "/bin/sh", "-c", $"echo ran >> {ledger}; sleep 2" },
            constraints = new { language = "report" },
        });
        var jobId = (string)accepted["jobId"]!;
        await _system.WaitForJob(jobId, "Running");

        _system.RabbitGate!.Close();
        try
        {
            // The job ends while the broker is away: its report is written, and cannot be confirmed.
            await Eventually.Get(() => Task.FromResult(Directory.GetFiles(_system.WorkerState("reporter"), "*.report").Length),
                unconfirmed => unconfirmed == 1, TimeSpan.FromSeconds(30), "the report waiting for the broker");
            worker.KillHard();
            _system.StartWorkerProcess("reporter", ("Worker__Cpus", "2"), ("Worker__Languages__0", "report"), ("Worker__RegistrationTtl", "00:02:00"));
        }
        finally
        {
            _system.RabbitGate.Open();
        }

        var job = await WaitLong(jobId);
        Assert.Equal(("Completed", 1), ((string?)job["state"], (int?)job["attempt"]));
        Assert.Equal(["ran"], File.ReadAllLines(ledger));
        File.Delete(ledger);
    }

    [Fact]
    public async Task A_scheduler_started_while_PostgreSQL_is_down_waits_for_it_instead_of_exiting()
    {
        _system.PostgresGate!.Close();
        ServiceProcess scheduler;
        try
        {
            scheduler = _system.StartScheduler("scheduler-late");
            await Eventually.Get(() => Task.FromResult(scheduler.Output), o => o.Contains("Applying the schema failed") && o.Contains("trying again"),
                TimeSpan.FromSeconds(60), "the scheduler retrying its start");
            Assert.False(scheduler.HasExited, scheduler.Output);
        }
        finally
        {
            _system.PostgresGate.Open();
        }
        await Eventually.Get(() => Task.FromResult(scheduler.Output), o => o.Contains("Applying the schema succeeded"),
            TimeSpan.FromSeconds(60), "the scheduler starting once PostgreSQL is back");
        Assert.False(scheduler.HasExited, scheduler.Output);
        await scheduler.Terminate(TimeSpan.FromSeconds(30));
    }

    async Task<string> Submit(string[] command)
    {
        var (status, accepted) = await _system.Submit(new { requestId = $"ride-{Guid.NewGuid():N}", command });
        Assert.Equal(HttpStatusCode.Accepted, status);
        return (string)accepted["jobId"]!;
    }

    async Task<JsonObject> WaitLong(string jobId)
    {
        try
        {
            return await Eventually.Get(async () => (await _system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!,
                job => job["state"]?.GetValue<string>() is "Completed" or "Failed" or "Cancelled" or "TimedOut", TimeSpan.FromSeconds(120),
                $"job {jobId} finished");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{_system.Logs}", e);
        }
    }

    async Task<(long Ready, long Unacknowledged)> QueueMessages()
    {
        using var management = TestEnvironment.RabbitManagement();
        var queue = await management.GetFromJsonAsync<JsonObject>($"queues/{_system.VirtualHost}/job-state");
        return ((long?)queue?["messages_ready"] ?? 0, (long?)queue?["messages_unacknowledged"] ?? 0);
    }

    async Task<long> ErrorQueueMessages()
    {
        using var management = TestEnvironment.RabbitManagement();
        var queues = await management.GetFromJsonAsync<JsonArray>($"queues/{_system.VirtualHost}?columns=name,messages");
        return queues!.Where(q => ((string)q!["name"]!).EndsWith("_error")).Sum(q => (long?)q!["messages"] ?? 0);
    }
}

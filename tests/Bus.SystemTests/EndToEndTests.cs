using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>Jobs submitted over HTTP travel the whole system: gateway, RabbitMQ, the saga in PostgreSQL, Redis, a worker process.</summary>
public sealed class EndToEndTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static string RequestId() => $"e2e-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_submitted_command_runs_on_a_worker_and_completes_with_its_exit_code_and_output()
    {
        var (status, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sh", "-c", "echo hello; echo to-stderr >&2" } });
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("Pending", (string?)accepted["state"]);

        var job = await system.WaitForJob((string)accepted["jobId"]!, "Completed", "Failed");

        Assert.Equal("Completed", (string?)job["state"]);
        Assert.Equal(0, (int?)job["exitCode"]);
        // stdout and stderr are read on separate pipes, so only each line, not their order, is certain.
        Assert.Equal(["hello", "to-stderr"], ((string)job["output"]!).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Contains((string?)job["workerId"], new[] { "worker-a", "worker-b" });
        Assert.NotNull(job["startedAt"]);
        Assert.NotNull(job["finishedAt"]);
    }

    [Fact]
    public async Task A_failing_command_ends_Failed_with_its_exit_code_and_its_resources_released()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sh", "-c", "echo broken >&2; exit 3" }, resources = new { cpus = 2 }, maxAttempts = 1 });

        var job = await system.WaitForJob((string)accepted["jobId"]!, "Completed", "Failed");

        Assert.Equal("Failed", (string?)job["state"]);
        Assert.Equal(3, (int?)job["exitCode"]);
        Assert.Equal("broken\n", (string?)job["output"]);
        Assert.Equal("exited with code 3", (string?)job["error"]);
        await Eventually.Get(async () => await ActiveAllocations((string)accepted["jobId"]!), n => n == 0, TimeSpan.FromSeconds(10),
            "the failed job's allocation row released");
    }

    [Fact]
    public async Task A_job_no_worker_can_hold_stays_pending_and_says_why()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" }, resources = new { cpus = 64 } });

        var job = await Eventually.Get(
            async () => (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{accepted["jobId"]}"))!,
            j => ((string?)j["pendingReason"])?.StartsWith("needs") == true, TimeSpan.FromSeconds(30), "a pending reason");

        Assert.Equal("Pending", (string?)job["state"]);
        Assert.Equal("needs 64 cpus; the largest live worker offering 'shell' has 4", (string?)job["pendingReason"]);
    }

    [Fact]
    public async Task The_same_request_submitted_concurrently_is_one_job()
    {
        var body = new { requestId = RequestId(), command = new[] { "/bin/echo", "once" } };

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => system.Submit(body)));

        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.Accepted or HttpStatusCode.OK, a.Status.ToString()));
        Assert.Single(answers.Select(a => (string?)a.Body["jobId"]).Distinct());
        Assert.Single(answers, a => a.Status == HttpStatusCode.Accepted);
        await system.WaitForJob((string)answers[0].Body["jobId"]!, "Completed");
        Assert.Equal(1, await JobRows(body.requestId));
    }

    [Fact]
    public async Task The_same_requestId_with_a_different_body_is_a_conflict()
    {
        var requestId = RequestId();
        await system.Submit(new { requestId, command = new[] { "/bin/echo", "one" } });

        var (status, problem) = await system.Submit(new { requestId, command = new[] { "/bin/echo", "two" } });

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains(requestId, (string?)problem["detail"]);
    }

    [Fact]
    public async Task An_invalid_submission_is_refused_with_an_error_per_field()
    {
        var response = await system.Api.PostAsJsonAsync("/api/v1/jobs", new { requestId = "has spaces", resources = new { cpus = 0 }, priority = 101 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject();
        Assert.Equal(["command", "priority", "requestId", "resources.cpus"], errors.Select(e => e.Key).Order());
    }

    [Fact]
    public async Task Calls_without_a_known_key_are_unauthorized_and_other_tenants_jobs_are_not_found()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" } });
        var path = $"/api/v1/jobs/{accepted["jobId"]}";

        Assert.Equal(HttpStatusCode.Unauthorized, (await system.Client(null).GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.Client("not-a-key-at-all-000000").GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await system.Client(RunningSystem.OtherTenantKey).GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await system.Client(RunningSystem.UserKey).GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task Finished_jobs_give_their_capacity_back()
    {
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
            ids.Add((string)(await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" }, resources = new { cpus = 2 } })).Body["jobId"]!);
        foreach (var id in ids)
            await system.WaitForJob(id, "Completed");

        var workers = await Eventually.Get(
            async () => (await system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!,
            w => w.All(x => (int?)x!["used"]!["cpus"] == 0), TimeSpan.FromSeconds(10), "every worker's cpus free again");
        Assert.Equal(2, workers.Count);
    }

    [Fact]
    public async Task A_failed_attempt_is_retried_and_the_next_attempt_can_succeed()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"bus-retry-{Guid.NewGuid():N}");
        var script = $"if [ -f {marker} ]; then echo second try; else touch {marker}; echo first try; exit 1; fi";
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sh", "-c", script }, maxAttempts = 2 });

        var job = await system.WaitForJob((string)accepted["jobId"]!, "Completed", "Failed");

        File.Delete(marker);
        Assert.Equal(("Completed", 2, "second try\n"), ((string?)job["state"], (int?)job["attempt"], (string?)job["output"]));
    }

    [Fact]
    public async Task A_job_that_fails_all_its_attempts_shows_each_of_them()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sh", "-c", "sleep 0.3; exit 7" }, maxAttempts = 3 });
        var jobId = (string)accepted["jobId"]!;

        var job = await Eventually.Get(
            async () => (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!,
            j => (string?)j["state"] == "Failed", TimeSpan.FromSeconds(60), $"job {jobId} Failed");

        var attempts = job["attempts"]!.AsArray();
        Assert.Equal([1, 2, 3], attempts.Select(a => (int)a!["attempt"]!));
        var workers = await system.WorkerIds();
        Assert.All(attempts, a =>
        {
            Assert.Contains((string)a!["workerId"]!, workers);
            Assert.Equal(7, (int?)a["exitCode"]);
            Assert.Equal("exited with code 7", (string?)a["error"]);
            var allocated = DateTimeOffset.Parse((string)a["allocatedAt"]!);
            var finished = DateTimeOffset.Parse((string)a["finishedAt"]!);
            Assert.True(finished >= allocated, $"attempt {a["attempt"]} finished at {finished:O}, before its allocation at {allocated:O}");
            // Each attempt sleeps before failing, so its worker reports the start before the end.
            Assert.NotNull((string?)a["startedAt"]);
        });
        // Each retry waits for the one before it to end.
        var times = attempts.Select(a => DateTimeOffset.Parse((string)a!["allocatedAt"]!)).ToList();
        for (var i = 1; i < times.Count; i++)
            Assert.True(times[i] >= DateTimeOffset.Parse((string)attempts[i - 1]!["finishedAt"]!), $"attempt {i + 1} placed before attempt {i} ended");
        // Lists leave attempts out: only the single job view reads them.
        var page = (await system.Api.GetFromJsonAsync<JsonObject>("/api/v1/jobs?state=Failed&limit=500"))!;
        Assert.Null(page["jobs"]!.AsArray().Single(j => (string?)j!["jobId"] == jobId)!["attempts"]);
    }

    [Fact]
    public async Task Cancelling_a_running_job_kills_it_and_frees_its_capacity()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sleep", "300" }, resources = new { cpus = 2 } });
        var jobId = (string)accepted["jobId"]!;
        await system.WaitForJob(jobId, "Running");

        var cancel = await system.Api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);

        var job = await system.WaitForJob(jobId, "Cancelled");
        Assert.Equal("cancelled", (string?)job["error"]);
        await Eventually.Get(async () => await ActiveAllocations(jobId), n => n == 0, TimeSpan.FromSeconds(10), "the allocation released");
        var again = await system.Api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Cancelling_a_pending_job_cancels_it_at_once()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" }, resources = new { cpus = 100 } });
        var jobId = (string)accepted["jobId"]!;
        await Eventually.Get(async () => (string?)(await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!["pendingReason"],
            r => r?.StartsWith("needs") == true, TimeSpan.FromSeconds(30), "the job pending for lack of a big worker");

        Assert.Equal(HttpStatusCode.Accepted, (await system.Api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).StatusCode);

        await system.WaitForJob(jobId, "Cancelled");
    }

    [Fact]
    public async Task A_job_past_its_timeout_is_killed_and_ends_TimedOut()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sh", "-c", "echo started; sleep 300" }, timeoutSeconds = 1 });

        var job = await system.WaitForJob((string)accepted["jobId"]!, "TimedOut", "Completed", "Failed");

        Assert.Equal("TimedOut", (string?)job["state"]);
        Assert.Equal("started\n", (string?)job["output"]);
    }

    [Fact]
    public async Task Health_and_metrics_answer_without_a_key()
    {
        var anonymous = system.Client(null);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
        var metrics = await anonymous.GetStringAsync("/metrics");
        Assert.Contains("http_server_request_duration_seconds", metrics);
    }

    async Task<long> ActiveAllocations(string jobId)
    {
        await using var command = system.Database.DataSource.CreateCommand("SELECT count(*) FROM resource_allocations WHERE job_id = $1 AND NOT released");
        command.Parameters.AddWithValue(Guid.Parse(jobId));
        return (long)(await command.ExecuteScalarAsync())!;
    }

    async Task<long> JobRows(string requestId)
    {
        await using var command = system.Database.DataSource.CreateCommand("SELECT count(*) FROM jobs WHERE request_id = $1");
        command.Parameters.AddWithValue(requestId);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

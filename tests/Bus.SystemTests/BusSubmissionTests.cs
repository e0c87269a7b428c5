using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>
/// Submitting over the bus on the whole running system: one job per (tenant, requestId) over HTTP, the bus, or both
/// at once; the same rules as HTTP; a refusal the client hears; the result the client waits for.
/// </summary>
public sealed class BusSubmissionTests(RunningSystem system) : IClassFixture<RunningSystem>, IAsyncLifetime
{
    // The development keys' tenant: RunningSystem.AdminKey acts for it.
    const string Tenant = "dev";
    BusClient _bus = null!;

    public async Task InitializeAsync() => _bus = await BusClient.Connect(system);

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    static string RequestId() => $"bus-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_job_submitted_over_the_bus_runs_and_its_client_hears_the_result()
    {
        var (accepted, rejected) = await _bus.Submit(BusClient.Command(Tenant, RequestId(), ["/bin/echo", "over the bus"]));

        Assert.Null(rejected);
        Assert.True(accepted!.Created);
        var finished = await _bus.Finished(accepted.JobId).Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(("Completed", 0, "over the bus\n"), (finished.State, finished.ExitCode, finished.Output));
        // The same job over HTTP, for the tenant the message named.
        var job = (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{accepted.JobId}"))!;
        Assert.Equal(("Completed", accepted.RequestId), ((string?)job["state"], (string?)job["requestId"]));
    }

    [Fact]
    public async Task The_same_requestId_twice_at_once_over_the_bus_is_one_job()
    {
        var command = BusClient.Command(Tenant, RequestId(), ["/bin/echo", "once"]);

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => _bus.Submit(command)));

        Assert.All(answers, a => Assert.Null(a.Rejected));
        Assert.Single(answers.Select(a => a.Accepted!.JobId).Distinct());
        Assert.Single(answers, a => a.Accepted!.Created);
        var jobId = answers[0].Accepted!.JobId;
        await _bus.Finished(jobId).Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(1, await Count("SELECT count(*) FROM jobs WHERE request_id = $1", command.RequestId));
        Assert.Equal(1, await Count("SELECT count(*) FROM job_requests WHERE request_id = $1", command.RequestId));
        // Ran once: one allocation, one attempt.
        Assert.Equal(1, await Count("SELECT count(*) FROM resource_allocations WHERE job_id = (SELECT job_id FROM jobs WHERE request_id = $1)", command.RequestId));
    }

    [Fact]
    public async Task The_same_requestId_over_HTTP_and_the_bus_at_once_is_one_job()
    {
        var requestId = RequestId();
        var http = system.Submit(new { requestId, command = new[] { "/bin/echo", "both" } });
        var overBus = _bus.Submit(BusClient.Command(Tenant, requestId, ["/bin/echo", "both"]));
        await Task.WhenAll(http, overBus);

        var (status, body) = await http;
        var (accepted, rejected) = await overBus;
        Assert.Contains(status, new[] { HttpStatusCode.Accepted, HttpStatusCode.OK });
        Assert.Null(rejected);
        Assert.Equal(Guid.Parse((string)body["jobId"]!), accepted!.JobId);
        // Exactly one of the two created it.
        Assert.NotEqual(status == HttpStatusCode.Accepted, accepted.Created);
        await system.WaitForJob((string)body["jobId"]!, "Completed");
        Assert.Equal(1, await Count("SELECT count(*) FROM jobs WHERE request_id = $1", requestId));
    }

    [Fact]
    public async Task A_different_body_under_a_used_requestId_is_refused_on_either_path()
    {
        var requestId = RequestId();
        var (status, body) = await system.Submit(new { requestId, command = new[] { "/bin/echo", "first" } });
        Assert.Equal(HttpStatusCode.Accepted, status);

        var (accepted, rejected) = await _bus.Submit(BusClient.Command(Tenant, requestId, ["/bin/echo", "second"]));
        Assert.Null(accepted);
        Assert.Equal(Guid.Parse((string)body["jobId"]!), rejected!.JobId);
        Assert.Contains("different body", rejected.Reason);

        // The other way round: first over the bus, then a different body over HTTP is a 409.
        var other = RequestId();
        Assert.NotNull((await _bus.Submit(BusClient.Command(Tenant, other, ["/bin/echo", "first"]))).Accepted);
        var (conflict, problem) = await system.Submit(new { requestId = other, command = new[] { "/bin/echo", "second" } });
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal("requestId already used", (string?)problem["title"]);

        // And the same body again over the bus is harmless: the same job, not a new one.
        var again = await _bus.Submit(BusClient.Command(Tenant, other, ["/bin/echo", "first"]));
        Assert.False(again.Accepted!.Created);
        Assert.Equal(1, await Count("SELECT count(*) FROM job_requests WHERE request_id = $1", other));
    }

    [Fact]
    public async Task A_submission_over_the_bus_that_breaks_the_HTTP_rules_is_refused_and_stores_nothing()
    {
        var requestId = RequestId();
        var (accepted, rejected) = await _bus.Submit(BusClient.Command(Tenant, requestId, ["/bin/true"], cpus: 0) with { MaxAttempts = 11 });

        Assert.Null(accepted);
        Assert.Equal(["maxAttempts", "resources.cpus"], rejected!.Errors.Keys.Order());
        Assert.Equal("resources.cpus must be between 1 and 4096.", rejected.Errors["resources.cpus"].Single());
        Assert.Null(rejected.JobId);

        var (_, noTenant) = await _bus.Submit(BusClient.Command("", RequestId(), ["/bin/true"]));
        Assert.Equal(["tenant"], noTenant!.Errors.Keys);
        var (_, wrongId) = await _bus.Submit(BusClient.Command(Tenant, RequestId(), ["/bin/true"]) with { JobId = Guid.NewGuid() });
        Assert.Equal(["jobId"], wrongId!.Errors.Keys);
        // The catalogue too, as over HTTP: a service it does not know is refused, naming the ones it does.
        var unknownService = RequestId();
        var (_, unknown) = await _bus.Submit(BusClient.Command(Tenant, unknownService, ["/bin/true"]) with { Service = "no-such-service" });
        Assert.Equal(["service"], unknown!.Errors.Keys);
        Assert.Contains("not in the service catalogue; known services:", unknown.Reason);
        Assert.Contains("shell", unknown.Reason);
        Assert.Equal(0, await Count("SELECT count(*) FROM job_requests WHERE request_id = $1", requestId));
        Assert.Equal(0, await Count("SELECT count(*) FROM job_requests WHERE request_id = $1", unknownService));
    }

    [Fact]
    public async Task Submissions_held_by_a_scheduler_killed_with_SIGKILL_are_taken_up_by_another_once_each()
    {
        var second = system.StartScheduler("scheduler-2");
        await Eventually.Get(() => Task.FromResult(second.Output), o => o.Contains("Application started"),
            TimeSpan.FromSeconds(60), "the second scheduler started");

        // Both schedulers consume job-submissions now: the killed one takes its share of the burst with it, unacknowledged.
        var commands = Enumerable.Range(0, 30).Select(_ => BusClient.Command(Tenant, RequestId(), ["/bin/true"])).ToList();
        var answers = commands.Select(_bus.Submit).ToList();
        second.KillHard();
        var replies = await Task.WhenAll(answers);

        // Every submission was answered (by the survivor, for what the killed one held unacknowledged), as one job each.
        Assert.All(replies, r => Assert.NotNull(r.Accepted));
        Assert.Equal(30, replies.Select(r => r.Accepted!.JobId).Distinct().Count());
        await Task.WhenAll(replies.Select(r => _bus.Finished(r.Accepted!.JobId).Task.WaitAsync(TimeSpan.FromSeconds(120))));
        foreach (var command in commands)
        {
            Assert.Equal(1, await Count("SELECT count(*) FROM jobs WHERE request_id = $1", command.RequestId));
            Assert.Equal(1, await Count("SELECT count(*) FROM resource_allocations a JOIN jobs j USING (job_id) WHERE j.request_id = $1", command.RequestId));
        }
    }

    [Fact]
    public async Task The_sample_client_submits_over_the_bus_and_exits_with_the_jobs_exit_code()
    {
        var dll = Path.Combine(TestEnvironment.RepoRoot, "samples", "bus-client", "bin", ServiceProcess.BuildConfiguration, "net10.0", "bus-client.dll");
        var requestId = RequestId();
        var run = await ProcessRun.Run("dotnet", [dll, "--tenant", Tenant, "--request-id", requestId, "--", "/bin/sh", "-c", "echo from the sample; exit 4"],
            new Dictionary<string, string>
            {
                ["RabbitMq__Host"] = TestEnvironment.RabbitHost,
                ["RabbitMq__Port"] = TestEnvironment.RabbitPort.ToString(),
                ["RabbitMq__VirtualHost"] = system.VirtualHost,
                ["RabbitMq__Username"] = TestEnvironment.RabbitUser,
                ["RabbitMq__Password"] = TestEnvironment.RabbitPassword,
            }, TimeSpan.FromSeconds(120));

        // maxAttempts 3: the job fails three times, then the sample prints the last attempt's output.
        Assert.True(run.ExitCode == 4, run.ToString());
        Assert.Equal("from the sample\n", run.Stdout);
        Assert.Contains("Failed after 3 attempt(s)", run.Stderr);
        var job = (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs?state=Failed&limit=500"))!["jobs"]!.AsArray()
            .Single(j => (string?)j!["requestId"] == requestId)!;
        Assert.Equal(4, (int?)job["exitCode"]);
    }

    async Task<long> Count(string sql, string parameter)
    {
        await using var command = system.Database.DataSource.CreateCommand(sql);
        command.Parameters.AddWithValue(parameter);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

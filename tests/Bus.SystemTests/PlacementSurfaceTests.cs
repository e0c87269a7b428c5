using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bus.Contracts;
using Bus.SystemTests.Support;
using Bus.Persistence.Catalogue;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.SystemTests;

/// <summary>
/// The system with workers of its own for each way a job can wait. Every test job names a language only these
/// workers offer (or a service nobody offers), so the tests' jobs never meet each other or the usual two workers.
/// A pool for shell jobs holds <c>rc-np-</c> workers, so a noop job for their language finds them in no pool that
/// serves it. Capacity is held after 2 s, reports of an unavailable service last 2 minutes and a failed attempt waits
/// a minute before its retry, so each of those states lasts long enough to be seen.
/// </summary>
public sealed class SurfaceSystem : IAsyncLifetime
{
    public RunningSystem System { get; } = new(new Dictionary<string, string>
    {
        ["Placement__Pools__0__Name"] = "rc-shell-only",
        ["Placement__Pools__0__Services__0"] = "shell",
        ["Placement__Pools__0__WorkerPrefixes__0"] = "rc-np-",
        ["Placement__HoldCapacityAfter"] = "00:00:02",
        ["Placement__UnavailableTtl"] = "00:02:00",
        ["Scheduler__RetryBaseDelay"] = "00:01:00",
        ["Stats__RefreshInterval"] = "00:00:01",
    });

    public async Task InitializeAsync()
    {
        await System.InitializeAsync();
        await Task.WhenAll(
            System.StartWorker("rc-hold", cpus: 2, ("Worker__Languages__0", "rc-hold")),
            System.StartWorker("rc-un", cpus: 1, ("Worker__Languages__0", "rc-un")),
            System.StartWorker("rc-np-1", cpus: 1, ("Worker__Languages__0", "rc-np")),
            System.StartWorker("rc-ex-1", cpus: 1, ("Worker__Languages__0", "rc-ex")),
            System.StartWorker("rc-ex-2", cpus: 3, ("Worker__Languages__0", "rc-ex")));
    }

    public Task DisposeAsync() => System.DisposeAsync();
}

/// <summary>
/// What a user reaches for when a job does not run: a pending reason code for every way of waiting (stored, shown,
/// filtered, counted), the service catalogue, and the what-if explanation that real placement then bears out.
/// </summary>
public sealed class PlacementSurfaceTests(SurfaceSystem surface) : IClassFixture<SurfaceSystem>
{
    readonly RunningSystem _system = surface.System;

    [Fact]
    public async Task Every_pending_reason_code_placement_gives_is_stored_returned_filtered_listed_and_counted()
    {
        var jobs = new Dictionary<PendingReasonCode, string>();
        var cleanup = new List<string>();
        try
        {
            jobs[PendingReasonCode.NoWorkerForService] = await Submit(new { service = "asr" });
            jobs[PendingReasonCode.NoWorkerForLanguage] = await Submit(Noop("rc-nobody"));
            jobs[PendingReasonCode.NoPool] = await Submit(Noop("rc-np"));
            jobs[PendingReasonCode.TooLarge] = await Submit(Noop("rc-ex", cpus: 64));
            jobs[PendingReasonCode.ExcludedOnlyEligible] = await Submit(Noop("rc-ex", cpus: 3, excludeWorker: "rc-ex-2"));

            // Backoff: a failed attempt whose retry waits its delay (a minute here).
            jobs[PendingReasonCode.Backoff] = await Submit(new { command = new[] { "/bin/sh", "-c", "exit 3" }, maxAttempts = 2 });

            // Resources, then Held: one job runs on rc-hold, a bigger one waits for it (and, after 2 s, has capacity
            // held for it), and a small one that would fit is kept off the held worker.
            var running = await Submit(Sleep("rc-hold", cpus: 1));
            cleanup.Add(running);
            await _system.WaitForJob(running, "Running");
            jobs[PendingReasonCode.Resources] = await Submit(Noop("rc-hold", cpus: 2));
            var small = Noop("rc-hold", cpus: 1);
            await Eventually.Get(() => Explain(small), e => (string?)e["pendingReasonCode"] == "Held", TimeSpan.FromSeconds(30),
                "the capacity hold for the waiting 2-cpu job");
            jobs[PendingReasonCode.Held] = await Submit(small);

            // Unavailable: rc-un reports noop unavailable (as a worker whose model failed would), then a job for it comes.
            var bus = await TestBus.Start(_system);
            try
            {
                await Eventually.Get(async () =>
                {
                    await bus.Publish(new ServiceUnavailable("rc-un", "noop", "model failed to load", DateTimeOffset.UtcNow));
                    return await Explain(Noop("rc-un"));
                }, e => (string?)e["pendingReasonCode"] == "Unavailable", TimeSpan.FromSeconds(30), "rc-un's report in the placement snapshot");
            }
            finally
            {
                await bus.StopAsync();
            }
            jobs[PendingReasonCode.Unavailable] = await Submit(Noop("rc-un"));
            cleanup.AddRange(jobs.Values);

            // Every code placement can give has its job; Submitted is the gateway's own (the saga has not written yet).
            Assert.Equal(Enum.GetValues<PendingReasonCode>().Except([PendingReasonCode.Submitted]).Order(), jobs.Keys.Order());
            foreach (var (code, jobId) in jobs)
            {
                var job = await Eventually.Get(() => Job(jobId), j => (string?)j["pendingReasonCode"] == code.ToString(),
                    TimeSpan.FromSeconds(30), $"job {jobId} pending with {code}");
                Assert.Equal("Pending", (string?)job["state"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)job["pendingReason"]), $"{code} has no sentence");

                var listed = await _system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs?pendingReasonCode={code}&limit=500");
                var ids = listed!["jobs"]!.AsArray().Select(j => (string?)j!["jobId"]).ToList();
                Assert.Contains(jobId, ids);
                Assert.All(listed["jobs"]!.AsArray(), j => Assert.Equal(code.ToString(), (string?)j!["pendingReasonCode"]));
            }
            Assert.Contains("reported it unavailable", (string?)(await Job(jobs[PendingReasonCode.Unavailable]))["pendingReason"]);

            var metrics = await Eventually.Get(() => new HttpClient().GetStringAsync(new Uri(_system.BaseAddress, "/metrics")),
                m => jobs.Keys.All(code => Regex.IsMatch(m, $@"bus_gateway_jobs_pending\{{[^}}]*reason_code=""{code}""[^}}]*\}} [1-9]")),
                TimeSpan.FromSeconds(30), "every code counted in bus_gateway_jobs_pending");
            Assert.Matches(@"bus_gateway_jobs_pending\{[^}]*reason_code=""Submitted""[^}]*\} 0", metrics);

            var cli = await CliRun.Start(_system, RunningSystem.AdminKey, "list", "--reason-code", "Held");
            Assert.True(cli.ExitCode == 0, cli.ToString());
            var row = Assert.Single(cli.Stdout.Split('\n'), line => line.Contains(jobs[PendingReasonCode.Held]));
            Assert.Contains("Held", row);
        }
        finally
        {
            foreach (var jobId in cleanup)
                await _system.Api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
        }
    }

    [Fact]
    public async Task A_filter_on_an_unknown_reason_code_is_a_400_that_lists_the_codes()
    {
        var response = await _system.Api.GetAsync("/api/v1/jobs?pendingReasonCode=Waiting");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("NoWorkerForService", (string?)problem["errors"]!["pendingReasonCode"]![0]);
        // A number is not a name, though Enum.TryParse would take it.
        Assert.Equal(HttpStatusCode.BadRequest, (await _system.Api.GetAsync("/api/v1/jobs?pendingReasonCode=1")).StatusCode);
    }

    [Fact]
    public async Task The_explanation_ranks_every_worker_and_the_same_submission_then_lands_where_it_said()
    {
        // rc-ex-2 (3 cpus) gets a third of its cpus taken, so rc-ex-1 (idle) is the less loaded of the two.
        var busy = await Submit(Sleep("rc-ex", cpus: 1, excludeWorker: "rc-ex-1"));
        try
        {
            Assert.Equal("rc-ex-2", (string?)(await _system.WaitForJob(busy, "Running"))["workerId"]);
            var body = Noop("rc-ex", cpus: 1, requestId: $"explained-{Guid.NewGuid():N}");
            var before = await JobCount();

            var explained = await Eventually.Get(() => Explain(body),
                e => e["workers"]!.AsArray().Any(w => (string?)w!["workerId"] == "rc-ex-2" && (double?)w["load"] > 0),
                TimeSpan.FromSeconds(10), "a snapshot that shows rc-ex-2's job");
            Assert.Equal(before, await JobCount()); // stored nothing
            var workers = explained["workers"]!.AsArray().ToDictionary(w => (string)w!["workerId"]!, w => w!.AsObject());

            Assert.Equal("rc-ex-1", (string?)explained["workerId"]);
            Assert.Null(explained["pendingReasonCode"]);
            Assert.Equal(["default"], explained["pools"]!.AsArray().Select(p => (string?)p));
            Assert.Equal(("Candidate", 1, "default"), ((string?)workers["rc-ex-1"]["verdict"], (int?)workers["rc-ex-1"]["rank"], (string?)workers["rc-ex-1"]["pool"]));
            Assert.Equal(("Candidate", 2), ((string?)workers["rc-ex-2"]["verdict"], (int?)workers["rc-ex-2"]["rank"]));
            Assert.Equal((2, 1), ((int?)workers["rc-ex-2"]["free"]!["cpus"], (int?)workers["rc-ex-2"]["needed"]!["cpus"]));
            Assert.Equal(0.3333, (double?)workers["rc-ex-2"]["load"]);
            // Every live worker has its line: the usual two offer no language, rc-hold another one.
            Assert.Equal(await LiveWorkerIds(), workers.Keys.Order());
            Assert.Equal("NoLanguage", (string?)workers["worker-a"]["verdict"]);
            Assert.Contains("not 'rc-ex'", (string?)workers["rc-hold"]["detail"]);
            Assert.All(workers.Values.Where(w => (string?)w["verdict"] is not "Candidate"), w => Assert.Null((int?)w["rank"]));

            var placed = await Submit(body);
            Assert.Equal((string?)explained["workerId"], (string?)(await _system.WaitForJob(placed, "Completed"))["workerId"]);
        }
        finally
        {
            await _system.Api.PostAsync($"/api/v1/jobs/{busy}/cancel", null);
        }
    }

    [Fact]
    public async Task An_explanation_of_a_job_that_would_wait_gives_its_code_and_each_workers_reason()
    {
        var tooLarge = await Explain(Noop("rc-ex", cpus: 8));
        Assert.Null(tooLarge["workerId"]);
        Assert.Equal(("TooLarge", "needs 8 cpus; the largest live worker offering 'noop' has 3"),
            ((string?)tooLarge["pendingReasonCode"], (string?)tooLarge["pendingReason"]));
        var ex2 = tooLarge["workers"]!.AsArray().Single(w => (string?)w!["workerId"] == "rc-ex-2")!;
        Assert.Equal("TooSmall", (string?)ex2["verdict"]);
        Assert.Matches(@"^capacity 3 cpus/\d+ MB/0 gpus < needed 8 cpus/", (string?)ex2["detail"]);

        var excluded = await Explain(Noop("rc-ex", cpus: 1, excludeWorker: "rc-ex-1"));
        Assert.Equal("Excluded", (string?)excluded["workers"]!.AsArray().Single(w => (string?)w!["workerId"] == "rc-ex-1")!["verdict"]);

        var pooled = await Explain(Noop("rc-np"));
        Assert.Equal("NoPool", (string?)pooled["pendingReasonCode"]);
        Assert.Equal("NotInPool", (string?)pooled["workers"]!.AsArray().Single(w => (string?)w!["workerId"] == "rc-np-1")!["verdict"]);
    }

    [Fact]
    public async Task An_explanation_is_validated_as_a_submission_and_refused_for_an_unknown_service()
    {
        var bad = await _system.Api.PostAsJsonAsync("/api/v1/jobs:explain", new { requestId = "x", resources = new { cpus = 0 } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.NotNull((await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["resources.cpus"]);

        var unknown = await _system.Api.PostAsJsonAsync("/api/v1/jobs:explain", new { requestId = "x", service = "no-such-service" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("shell", (await unknown.Content.ReadFromJsonAsync<JsonObject>())!["knownServices"]!.AsArray().Select(s => (string?)s));

        Assert.Equal(HttpStatusCode.Unauthorized, (await _system.Client(null).PostAsJsonAsync("/api/v1/jobs:explain", Noop("rc-ex"))).StatusCode);
    }

    [Fact]
    public async Task The_CLI_explains_with_the_flags_of_submit()
    {
        var run = await CliRun.Start(_system, RunningSystem.AdminKey,
            "explain", "--service", "noop", "--language", "rc-ex", "--cpus", "8", "--request-id", "cli-explained");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Would wait: TooLarge: needs 8 cpus", run.Stdout);
        Assert.Contains("TooSmall", run.Stdout);
        // Nothing was submitted under that request id.
        var listed = await _system.Api.GetFromJsonAsync<JsonObject>("/api/v1/jobs?limit=500");
        Assert.DoesNotContain("cli-explained", listed!["jobs"]!.AsArray().Select(j => (string?)j!["requestId"]));
    }

    [Fact]
    public async Task The_catalogue_lists_known_services_with_their_workers_refuses_unknown_ones_and_admins_change_it()
    {
        var catalogue = await Services();
        Assert.Equal("Table", (string?)catalogue["source"]);
        var services = ServicesOf(catalogue);
        Assert.Contains("worker-a", services["shell"]);
        Assert.Contains("worker-b", services["noop"]);
        Assert.Empty(services["asr"]); // known, offered by nobody: accepted and Pending (the codes test shows it)

        var service = $"svc-{Guid.NewGuid():N}"[..20];
        var (refused, problem) = await _system.Submit(new { requestId = $"unknown-{Guid.NewGuid():N}", service });
        Assert.Equal(HttpStatusCode.BadRequest, refused);
        Assert.Equal(services.Keys.Order(), problem["knownServices"]!.AsArray().Select(s => (string)s!).Order());
        Assert.Contains($"service '{service}' is not in the service catalogue", (string?)problem["errors"]!["service"]![0]);

        var user = _system.Client(RunningSystem.UserKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PutAsJsonAsync($"/api/v1/services/{service}", new { description = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _system.Api.PutAsJsonAsync("/api/v1/services/Bad%20Name", new { description = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _system.Api.PutAsJsonAsync($"/api/v1/services/{service}", new { description = "for a test" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _system.Api.PutAsJsonAsync($"/api/v1/services/{service}", new { description = "changed" })).StatusCode);

        var (accepted, job) = await _system.Submit(new { requestId = $"known-{Guid.NewGuid():N}", service }, user);
        Assert.Equal(HttpStatusCode.Accepted, accepted);
        var waiting = await Eventually.Get(() => Job((string)job["jobId"]!), j => j["pendingReasonCode"] is not null && (string?)j["pendingReasonCode"] != "Submitted",
            TimeSpan.FromSeconds(30), "the scheduler's pending reason");
        Assert.Equal("NoWorkerForService", (string?)waiting["pendingReasonCode"]);
        await _system.Api.PostAsync($"/api/v1/jobs/{job["jobId"]}/cancel", null);

        Assert.Equal(HttpStatusCode.NoContent, (await _system.Api.DeleteAsync($"/api/v1/services/{service}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _system.Api.DeleteAsync($"/api/v1/services/{service}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _system.Submit(new { requestId = $"gone-{Guid.NewGuid():N}", service })).Status);
    }

    [Fact]
    public async Task A_cold_start_while_the_database_is_unreachable_knows_the_services_from_the_cache_file_the_services_wrote()
    {
        var known = ServicesOf(await Services()).Keys.Order().ToArray();
        // The gateway and the scheduler write the file after every read of the table (every 2 s here).
        await Eventually.Get(() => Task.FromResult(File.Exists(_system.CatalogueCacheFile)), exists => exists, TimeSpan.FromSeconds(10), "the cache file");

        // A process starting now, with PostgreSQL on a port where nothing listens.
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=bus;Password=x;Timeout=2");
        var catalogue = new ServiceCatalogue(unreachable, Options.Create(new CatalogueOptions { CacheFile = _system.CatalogueCacheFile }),
            TimeProvider.System, NullLogger<ServiceCatalogue>.Instance);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => catalogue.Refresh(CancellationToken.None));
        Assert.True(await catalogue.LoadCacheFile(CancellationToken.None));

        Assert.Equal(known, (await catalogue.Current(CancellationToken.None)).Select(e => e.Service).Order().ToArray());
        Assert.Equal(CatalogueSource.CacheFile, catalogue.Origin?.Source);
    }

    static object Noop(string language, int cpus = 1, string? excludeWorker = null, string? requestId = null) => new
    {
        requestId = requestId ?? $"{language}-{Guid.NewGuid():N}",
        service = "noop",
        resources = new { cpus },
        constraints = new { language, excludeWorker },
    };

    static object Sleep(string language, int cpus, string? excludeWorker = null) => new
    {
        requestId = $"{language}-sleep-{Guid.NewGuid():N}",
        command = new[] { "/bin/sleep", "120" },
        resources = new { cpus },
        constraints = new { language, excludeWorker },
    };

    async Task<string> Submit(object body)
    {
        var (status, accepted) = await _system.Submit(WithRequestId(body));
        Assert.True(status == HttpStatusCode.Accepted, $"{status}: {accepted}");
        return (string)accepted["jobId"]!;
    }

    /// <summary>A body without a requestId gets a fresh one.</summary>
    static JsonObject WithRequestId(object body)
    {
        var json = System.Text.Json.JsonSerializer.SerializeToNode(body, RunningSystem.Json)!.AsObject();
        json["requestId"] ??= $"surface-{Guid.NewGuid():N}";
        return json;
    }

    async Task<JsonObject> Explain(object body)
    {
        var response = await _system.Api.PostAsJsonAsync("/api/v1/jobs:explain", WithRequestId(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    async Task<JsonObject> Job(string jobId) => (await _system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!;

    async Task<JsonObject> Services() => (await _system.Api.GetFromJsonAsync<JsonObject>("/api/v1/services"))!;

    static Dictionary<string, string[]> ServicesOf(JsonObject catalogue) => catalogue["services"]!.AsArray()
        .ToDictionary(s => (string)s!["service"]!, s => s!["workers"]!.AsArray().Select(w => (string)w!).ToArray());

    async Task<IEnumerable<string>> LiveWorkerIds() => (await _system.WorkerIds()).Order();

    async Task<int> JobCount() => (await _system.Api.GetFromJsonAsync<JsonObject>("/api/v1/jobs?limit=500"))!["jobs"]!.AsArray().Count;
}

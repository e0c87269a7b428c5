using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.Capacity.Redis;
using Bus.Contracts;
using Bus.SystemTests.Support;
using MassTransit;
using StackExchange.Redis;

namespace Bus.SystemTests;

/// <summary>
/// The system with two pools configured by worker id prefix, "slow" (<c>rt-x-</c>) listed before "fast" (<c>rt-y-</c>),
/// so neither the order of ids nor the order of pools alone would choose "fast".
/// </summary>
public sealed class PooledSystem : IAsyncLifetime
{
    public RunningSystem System { get; } = new(new Dictionary<string, string>
    {
        ["Placement__Pools__0__Name"] = "slow",
        ["Placement__Pools__0__WorkerPrefixes__0"] = "rt-x-",
        ["Placement__Pools__1__Name"] = "fast",
        ["Placement__Pools__1__WorkerPrefixes__0"] = "rt-y-",
    });

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

/// <summary>
/// Capability routing end to end, with real worker processes of different capabilities. Each test brings
/// its own workers, advertising a language no other worker has, and its jobs ask for that language: so a test's jobs
/// run only on its own workers, whatever else runs. Ties between equally loaded workers go to the lower id, which the
/// tests use to show that a choice was made for a reason (affinity, a report) rather than by default.
/// </summary>
public sealed class PlacementRoutingTests(PooledSystem pooled) : IClassFixture<PooledSystem>
{
    readonly RunningSystem _system = pooled.System;

    [Fact]
    public async Task Jobs_run_on_the_workers_offering_their_language_and_a_language_nobody_offers_waits_and_says_so()
    {
        await StartWorkers(("rt-zh", "zh-rt"), ("rt-en", "en-rt"));

        var zh = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Submit("zh-rt")));
        var en = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Submit("en-rt")));
        var nobody = await Submit("xx-rt");

        foreach (var id in zh)
            Assert.Equal("rt-zh", (string?)(await _system.WaitForJob(id, "Completed"))["workerId"]);
        foreach (var id in en)
            Assert.Equal("rt-en", (string?)(await _system.WaitForJob(id, "Completed"))["workerId"]);
        var waiting = await Job(nobody);
        Assert.Equal(("Pending", "no live worker offers service 'noop' for language 'xx-rt'"), ((string?)waiting["state"], (string?)waiting["pendingReason"]));
        await _system.Api.PostAsync($"/api/v1/jobs/{nobody}/cancel", null);
    }

    [Fact]
    public async Task A_job_runs_in_its_preferred_pool_and_falls_back_to_the_next_pool_when_that_one_is_full()
    {
        await _system.StartWorker("rt-y-fast", cpus: 1, ("Worker__Languages__0", "pool-rt"));
        await _system.StartWorker("rt-x-slow", cpus: 1, ("Worker__Languages__0", "pool-rt"));

        var first = await Submit("pool-rt", pool: "fast", command: ["/bin/sh", "-c", "sleep 30"]);
        Assert.Equal("rt-y-fast", (string?)(await _system.WaitForJob(first, "Running"))["workerId"]);
        var second = await Submit("pool-rt", pool: "fast", command: ["/bin/sh", "-c", "sleep 30"]);
        Assert.Equal("rt-x-slow", (string?)(await _system.WaitForJob(second, "Running"))["workerId"]);

        var third = await Submit("pool-rt", pool: "fast");
        var waiting = await Eventually.Get(() => Job(third), j => ((string?)j["pendingReason"])?.Contains("eligible") == true,
            TimeSpan.FromSeconds(10), "placement's pending reason");
        Assert.Equal("2 eligible workers, all full (waiting for capacity)", (string?)waiting["pendingReason"]);

        await _system.Api.PostAsync($"/api/v1/jobs/{first}/cancel", null);
        Assert.Equal("rt-y-fast", (string?)(await _system.WaitForJob(third, "Completed"))["workerId"]);
        await _system.Api.PostAsync($"/api/v1/jobs/{second}/cancel", null);
    }

    [Fact]
    public async Task Jobs_with_the_same_affinity_key_follow_the_worker_that_served_it_last_and_excludeWorker_is_honoured()
    {
        await StartWorkers(("rt-aff-a", "aff-rt"), ("rt-aff-b", "aff-rt"));

        // Excluding a sends the key's first job to b; the key then sticks to b although a, the lower id, is as idle.
        var first = await Submit("aff-rt", affinityKey: "session-1", excludeWorker: "rt-aff-a");
        Assert.Equal("rt-aff-b", (string?)(await _system.WaitForJob(first, "Completed"))["workerId"]);
        foreach (var _ in Enumerable.Range(0, 3))
            Assert.Equal("rt-aff-b", (string?)(await _system.WaitForJob(await Submit("aff-rt", affinityKey: "session-1"), "Completed"))["workerId"]);

        Assert.Equal("rt-aff-a", (string?)(await _system.WaitForJob(await Submit("aff-rt"), "Completed"))["workerId"]);
        Assert.Equal("rt-aff-a", (string?)(await _system.WaitForJob(await Submit("aff-rt", affinityKey: "session-2"), "Completed"))["workerId"]);
    }

    [Fact]
    public async Task A_worker_that_reports_a_service_unavailable_is_skipped_for_it_and_a_storm_of_reports_is_one_report()
    {
        await StartWorkers(("rt-un-a", "un-rt"), ("rt-un-b", "un-rt"));
        using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var keys = new RedisKeys(_system.KeyPrefix);

        var bus = await TestBus.Start(_system);
        try
        {
            // A storm, as a worker whose model keeps failing might send; published until the scheduler has heard it.
            await Eventually.Get(async () =>
            {
                await Task.WhenAll(Enumerable.Range(0, 500).Select(_ =>
                    bus.Publish(new ServiceUnavailable("rt-un-a", "noop", "model failed to load", DateTimeOffset.UtcNow))));
                // The index is written just after the key: wait for both, or a slow machine reads the index too soon.
                return await redis.GetDatabase().KeyExistsAsync(keys.ServiceUnavailable("rt-un-a", "noop"))
                    && await redis.GetDatabase().SortedSetLengthAsync(keys.UnavailableIndex) > 0;
            }, recorded => recorded, TimeSpan.FromSeconds(30), "the report recorded");
        }
        finally
        {
            await bus.StopAsync();
        }

        var index = await redis.GetDatabase().SortedSetRangeByScoreAsync(keys.UnavailableIndex);
        Assert.Equal(["rt-un-a\nnoop"], index.Select(m => m.ToString()));
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(keys.ServiceUnavailable("rt-un-a", "noop"));
        Assert.InRange(ttl!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30));

        // Placement reads the report from its next snapshot: wait until placement itself says it skips a for it.
        await Eventually.Get(async () =>
            {
                var explain = new { requestId = $"un-rt-{Guid.NewGuid():N}", service = "noop", constraints = new { language = "un-rt" } };
                return (await (await _system.Api.PostAsJsonAsync("/api/v1/jobs:explain", explain)).Content.ReadFromJsonAsync<JsonObject>())!;
            },
            e => e["workers"]!.AsArray().Any(w => (string?)w!["workerId"] == "rt-un-a" && (string?)w["verdict"] == "Unavailable"),
            TimeSpan.FromSeconds(30), "rt-un-a's report in the placement snapshot");
        foreach (var _ in Enumerable.Range(0, 3))
            Assert.Equal("rt-un-b", (string?)(await _system.WaitForJob(await Submit("un-rt"), "Completed"))["workerId"]);
        // Only for that service: a shell job still takes a, the lower id.
        Assert.Equal("rt-un-a", (string?)(await _system.WaitForJob(await Submit("un-rt", command: ["/bin/true"]), "Completed"))["workerId"]);
    }

    [Fact]
    public async Task Two_workers_offering_tts_for_different_languages_each_get_their_languages_jobs_and_speak_them()
    {
        // Only these two offer tts here, each for one language, on one real speech server that has both.
        await using var tts = await TtsServer.Start("tts-routing");
        await _system.StartWorker("rt-tts-zh", cpus: 2, ModelServiceTests.TtsWorker(tts.SynthesizeUrl, "zh"));
        await _system.StartWorker("rt-tts-en", cpus: 2, ModelServiceTests.TtsWorker(tts.SynthesizeUrl, "en"));

        var jobs = await Task.WhenAll(new[] { ("zh", "你好"), ("en", "Hello"), ("zh", "谢谢"), ("en", "Thanks") }.Select(async j =>
        {
            var (_, accepted) = await _system.Submit(new
            {
                requestId = $"tts-rt-{Guid.NewGuid():N}",
                service = "tts",
                payload = new { text = j.Item2 },
                constraints = new { language = j.Item1 },
            });
            return (Language: j.Item1, JobId: (string)accepted["jobId"]!);
        }));

        foreach (var (language, jobId) in jobs)
        {
            var job = await _system.WaitForJob(jobId, "Completed", "Failed");
            Assert.Equal(("Completed", $"rt-tts-{language}", language),
                ((string?)job["state"], (string?)job["workerId"], (string?)job["result"]?["language"]));
        }
    }

    [Fact]
    public async Task The_worker_list_shows_each_workers_pools_by_the_rules_placement_uses()
    {
        await StartWorkers(("rt-x-listed", "list-rt"), ("rt-y-listed", "list-rt"));

        var workers = (await _system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!
            .ToDictionary(w => (string)w!["workerId"]!, w => w!["pools"]!.AsArray().Select(p => (string)p!).ToArray());

        // The gateway got the same Placement:Pools as the scheduler; the fixture's own workers match no rule.
        Assert.Equal(["slow"], workers["rt-x-listed"]);
        Assert.Equal(["fast"], workers["rt-y-listed"]);
        Assert.Equal(["default"], workers["worker-a"]);
        Assert.Equal(["default"], workers["worker-b"]);
    }

    async Task StartWorkers(params (string Id, string Language)[] workers) =>
        await Task.WhenAll(workers.Select(w => _system.StartWorker(w.Id, cpus: 2, ("Worker__Languages__0", w.Language))));

    /// <summary>A noop job (or, with a command, a shell job) for one language, with optional constraints.</summary>
    async Task<string> Submit(string language, string? pool = null, string? affinityKey = null, string? excludeWorker = null, string[]? command = null)
    {
        var (_, accepted) = await _system.Submit(new
        {
            requestId = $"{language}-{Guid.NewGuid():N}",
            service = command is null ? "noop" : "shell",
            command,
            constraints = new { language, pool, affinityKey, excludeWorker },
        });
        return (string)accepted["jobId"]!;
    }

    async Task<JsonObject> Job(string jobId) => (await _system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!;
}

using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Hosting.Options;
using Bus.ComponentTests.Support;
using Bus.Scheduler;
using Bus.Scheduler.Extensions;
using Bus.Persistence.Jobs;
using Bus.Scheduler.Placement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus.ComponentTests;

/// <summary>
/// Placement's shared state on real Redis, standalone and the 3-master cluster alike: service-unavailable reports,
/// affinity, the pending-pass lease and capacity hold, and the snapshot built from all of them.
/// </summary>
public sealed class PlacementRedisTests(RedisTargets redis) : IClassFixture<RedisTargets>
{
    static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_report_opens_a_window_that_later_reports_do_not_reopen_and_it_lapses_by_itself(string target)
    {
        var availability = new ServiceAvailability(redis.Connection(target), RedisTargets.FreshKeys(), TimeProvider.System);
        // Long enough that the second report lands inside the window even when the machine stalls between the two.
        var ttl = TimeSpan.FromSeconds(2);

        var (first, until) = await availability.MarkUnavailable("w1", "asr", "model failed to load", ttl);
        var (second, sameUntil) = await availability.MarkUnavailable("w1", "asr", "again", ttl);

        Assert.True(first);
        Assert.False(second);
        Assert.InRange(sameUntil - until, TimeSpan.FromMilliseconds(-200), TimeSpan.FromMilliseconds(200));
        Assert.Equal([("w1", "asr")], (await availability.ListUnavailable()).Select(u => (u.WorkerId, u.Service)));

        // Redis's own clock ends the window (the key's PX), so the test waits for it, with a deadline.
        await Eventually.Get(availability.ListUnavailable, listed => listed.Count == 0, TimeSpan.FromSeconds(10), "the window lapsed");
        await Eventually.Get(() => availability.MarkUnavailable("w1", "asr", "still broken", Window), mark => mark.Recorded,
            TimeSpan.FromSeconds(10), "a report after the window opening a new one");
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Reports_inside_a_window_the_process_knows_of_are_dropped_without_asking_Redis(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var db = redis.Connection(target).GetDatabase();
        // Two instances stand for two scheduler processes, each with its own memory of windows.
        var (one, other) = (new ServiceAvailability(redis.Connection(target), keys, TimeProvider.System),
            new ServiceAvailability(redis.Connection(target), keys, TimeProvider.System));
        // Long enough that the steps below fit inside the window on a loaded machine.
        var ttl = TimeSpan.FromSeconds(3);

        Assert.Equal(ReportOutcome.Recorded, (await one.Report("w1", "asr", "model failed to load", ttl)).Outcome);
        Assert.Equal(ReportOutcome.Debounced, (await other.Report("w1", "asr", "again", ttl)).Outcome);
        Assert.Equal(ReportOutcome.Dropped, (await other.Report("w1", "asr", "again", ttl)).Outcome);

        // With the window's key gone, a report that asked Redis would open a new window; these do not ask.
        await db.KeyDeleteAsync(keys.ServiceUnavailable("w1", "asr"));
        Assert.Equal(ReportOutcome.Dropped, (await one.Report("w1", "asr", "again", ttl)).Outcome);
        Assert.Equal(ReportOutcome.Dropped, (await other.Report("w1", "asr", "again", ttl)).Outcome);
        Assert.False(await db.KeyExistsAsync(keys.ServiceUnavailable("w1", "asr")));

        // Once the window has lapsed, the next report asks Redis again and opens a new one.
        await Eventually.Get(async () => (await one.Report("w1", "asr", "still broken", ttl)).Outcome, o => o == ReportOutcome.Recorded,
            TimeSpan.FromSeconds(10), "a report after the window to open a new one");
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task A_storm_of_concurrent_reports_records_each_pair_once(string target)
    {
        // Several clients at once stand for several scheduler instances: SET NX lets exactly one win per pair.
        var keys = RedisTargets.FreshKeys();
        var instances = Enumerable.Range(0, 4).Select(_ => new ServiceAvailability(redis.Connection(target), keys, TimeProvider.System)).ToArray();
        var reports = Enumerable.Range(0, 4000).Select(i => (Instance: instances[i % 4], Worker: $"w{i % 20}", Service: i % 40 < 20 ? "asr" : "tts"));

        var results = await Task.WhenAll(reports.Select(r => r.Instance.MarkUnavailable(r.Worker, r.Service, "storm", Window)));

        Assert.Equal(40, results.Count(r => r.Recorded));
        Assert.Equal(40, (await instances[0].ListUnavailable()).Count);
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Affinity_remembers_the_last_worker_per_tenant_and_key(string target)
    {
        var affinity = Parts(redis.Connection(target), RedisTargets.FreshKeys()).Create<AffinityMap>();
        var longKey = new string('k', 500);

        affinity.Remember("dev", "session-1", "w1", Window);
        affinity.Remember("dev", "session-1", "w2", Window);
        affinity.Remember("dev", longKey, "w3", Window);
        affinity.Remember("dev", "brief", "w4", TimeSpan.FromSeconds(2));

        await Eventually.Get(() => affinity.Lookup("dev", longKey), w => w is not null, TimeSpan.FromSeconds(5), "the fire-and-forget writes landed");
        Assert.Equal("w2", await affinity.Lookup("dev", "session-1"));
        Assert.Equal("w3", await affinity.Lookup("dev", longKey));
        Assert.Null(await affinity.Lookup("acme", "session-1"));
        // Present first, then gone by itself when Redis expires it.
        await Eventually.Get(() => affinity.Lookup("dev", "brief"), w => w == "w4", TimeSpan.FromSeconds(5), "the brief key landed");
        await Eventually.Get(() => affinity.Lookup("dev", "brief"), w => w is null, TimeSpan.FromSeconds(10), "the brief key lapsed");
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task One_instance_leads_each_periodic_pass_and_the_hold_it_writes_is_read_back(string target)
    {
        var keys = RedisTargets.FreshKeys();
        // Each instance stands for another scheduler process, so each has its own parts.
        var instances = Enumerable.Range(0, 3).Select(_ => Parts(redis.Connection(target), keys).Create<PendingPassCoordinator>()).ToArray();

        var leads = await Task.WhenAll(instances.Select(i => i.TryLead(TimeSpan.FromSeconds(2))));
        Assert.Single(leads, led => led);
        // The lease lapses by Redis's clock.
        await Eventually.Get(() => instances[2].TryLead(TimeSpan.FromSeconds(5)), led => led, TimeSpan.FromSeconds(10), "another instance leading once the lease lapsed");

        var hold = new CapacityHold(Guid.NewGuid(), 40, DateTimeOffset.UtcNow.AddMinutes(-10), new ResourceVector(16, 2048, 1), "big-1");
        Assert.Null(await instances[1].ReadHold());
        await instances[0].WriteHold(hold, Window);
        Assert.Equal(hold, await instances[1].ReadHold());
        await instances[0].ClearHold();
        Assert.Null(await instances[1].ReadHold());
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task One_instance_runs_the_event_passes_while_it_renews_its_lease_and_another_takes_over_once_it_lapses(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var (one, other) = (Parts(redis.Connection(target), keys).Create<PendingPassCoordinator>(),
            Parts(redis.Connection(target), keys).Create<PendingPassCoordinator>());
        var lease = TimeSpan.FromSeconds(2);

        Assert.Null(await one.LeadEventPasses(lease));
        var left = await other.LeadEventPasses(lease);
        Assert.NotNull(left);
        Assert.InRange(left.Value, TimeSpan.FromMilliseconds(1), lease);
        Assert.Null(await one.LeadEventPasses(lease)); // its holder renews it

        // Unrenewed, it lapses by Redis's clock and the other instance leads.
        await Eventually.Get(() => other.LeadEventPasses(TimeSpan.FromMilliseconds(300)), led => led is null, TimeSpan.FromSeconds(10),
            "the other instance leading once the lease lapsed");
        Assert.NotNull(await one.LeadEventPasses(lease));
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task Two_instances_offering_at_once_split_the_jobs_between_them_and_a_job_is_offered_again_after_the_cooldown(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var (one, other) = (Parts(redis.Connection(target), keys).Create<PendingPassCoordinator>(),
            Parts(redis.Connection(target), keys).Create<PendingPassCoordinator>());
        var jobs = Enumerable.Range(0, 40).Select(i => new PendingJob(Guid.NewGuid(), "dev", "shell", new ResourceVector(1, 0, 0),
            new PlacementConstraints(null, null, null, null), 50, DateTimeOffset.UtcNow)).ToList();
        // Long enough that the claims below all fall inside it even when the machine stalls between them.
        var cooldown = TimeSpan.FromSeconds(2);

        // Both read the same head of the queue (the first 30) and a bit more each, at the same moment.
        var claims = await Task.WhenAll(one.ClaimOffers(jobs[..30], cooldown), other.ClaimOffers(jobs[10..], cooldown));
        Assert.Empty(claims[0].Select(j => j.JobId).Intersect(claims[1].Select(j => j.JobId)));
        Assert.Equal(jobs.Select(j => j.JobId).Order(), claims.SelectMany(c => c).Select(j => j.JobId).Order());
        Assert.Empty(await one.ClaimOffers(jobs, cooldown));

        // Redis's clock ends the cooldown; then an offer that lost its slot can be made again, by either instance.
        await Eventually.Get(() => other.ClaimOffers(jobs[..5], cooldown), again => again.Count == 5, TimeSpan.FromSeconds(10),
            "the jobs offered again after the cooldown");
    }

    [Theory, MemberData(nameof(RedisTargets.Both), MemberType = typeof(RedisTargets))]
    public async Task The_snapshot_carries_workers_reports_and_hold_and_picks_up_a_pool_change_without_a_restart(string target)
    {
        var keys = RedisTargets.FreshKeys();
        var connection = redis.Connection(target);
        var registry = new WorkerRegistry(connection, keys, TimeProvider.System);
        var availability = new ServiceAvailability(connection, keys, TimeProvider.System);
        var coordinator = Parts(connection, keys).Create<PendingPassCoordinator>();
        await registry.Register(new WorkerRegistration("gpu-1", new ResourceVector(8, 0, 1), 8, ["asr"], ["zh"], WorkerStatus.Ready), Window);
        await registry.Register(new WorkerRegistration("cpu-1", new ResourceVector(8, 0, 0), 8, ["asr"], ["zh"], WorkerStatus.Ready), Window);
        await availability.MarkUnavailable("cpu-1", "asr", "model failed to load", Window);
        var hold = new CapacityHold(Guid.NewGuid(), 50, DateTimeOffset.UtcNow, new ResourceVector(8, 0, 0), "cpu-1");
        await coordinator.WriteHold(hold, Window);

        var settings = Path.Combine(Path.GetTempPath(), $"placement-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(settings, """{ "Placement": { "Pools": [ { "Name": "gpu", "WorkerPrefixes": [ "gpu-" ] } ] } }""");
        try
        {
            var configuration = new ConfigurationBuilder().AddJsonFile(settings, optional: false, reloadOnChange: true).Build();
            await using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddPlacementOptions().BuildServiceProvider();
            var options = services.GetRequiredService<IOptionsMonitor<PlacementOptions>>();
            // The database is read only if Redis fails, which it does not here.
            await using var database = Npgsql.NpgsqlDataSource.Create(TestEnvironment.Postgres);
            var parts = new CapacityParts(connection, keys, database);
            var snapshots = new PlacementSnapshots(registry, parts.Directory, parts.Outage, availability, coordinator,
                services.GetRequiredService<LastKnownGood<PlacementOptions>>(), TimeProvider.System, NullLogger<PlacementSnapshots>.Instance);

            var first = await snapshots.Current();
            Assert.Equal([("cpu-1", "default"), ("gpu-1", "gpu")], first.Workers.Select(w => (w.WorkerId, w.Pools.Single())).Order());
            Assert.True(first.IsUnavailable("cpu-1", "asr"));
            Assert.Equal(hold, first.Hold);
            Assert.Same(first, await snapshots.Current()); // published, not rebuilt per read

            var changed = new TaskCompletionSource();
            using var _ = options.OnChange(o => { if (o.Pools.Any(p => p.Name == "cpu")) changed.TrySetResult(); });
            await File.WriteAllTextAsync(settings, """{ "Placement": { "Pools": [ { "Name": "cpu", "WorkerPrefixes": [ "cpu-" ] } ] } }""");
            await changed.Task.WaitAsync(TimeSpan.FromSeconds(10));

            var second = await snapshots.Fresh(DateTimeOffset.UtcNow);
            Assert.Equal([("cpu-1", "cpu"), ("gpu-1", "default")], second.Workers.Select(w => (w.WorkerId, w.Pools.Single())).Order());

            // A broken reload (two pools of one name) is refused; the pools in force stay.
            await File.WriteAllTextAsync(settings, """{ "Placement": { "Pools": [ { "Name": "x" }, { "Name": "x" } ] } }""");
            await Eventually.Get(() => Task.FromResult(Refused(options)), refused => refused, TimeSpan.FromSeconds(10), "the broken reload seen");
            var third = await snapshots.Fresh(DateTimeOffset.UtcNow);
            Assert.Equal([("cpu-1", "cpu"), ("gpu-1", "default")], third.Workers.Select(w => (w.WorkerId, w.Pools.Single())).Order());
        }
        finally
        {
            File.Delete(settings);
        }
    }

    static bool Refused(IOptionsMonitor<PlacementOptions> options)
    {
        try
        {
            _ = options.CurrentValue;
            return false;
        }
        catch (OptionsValidationException)
        {
            return true;
        }
    }

    /// <summary>
    /// The production parts over a connection and key prefix. The database is read only if Redis fails, which it does
    /// not in these tests, and is never connected to.
    /// </summary>
    static CapacityParts Parts(StackExchange.Redis.IConnectionMultiplexer connection, RedisKeys keys) =>
        new(connection, keys, Npgsql.NpgsqlDataSource.Create(TestEnvironment.Postgres));
}

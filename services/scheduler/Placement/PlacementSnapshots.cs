using System.Diagnostics;
using Bus.Capacity.Redis;
using Bus.Capacity.Workers;
using Bus.Hosting.Options;

namespace Bus.Scheduler.Placement;

/// <summary>Where placement gets its snapshot.</summary>
public interface IPlacementSnapshots
{
    /// <summary>The newest snapshot. Before the first one exists, waits for it to be built.</summary>
    ValueTask<PlacementSnapshot> Current();

    /// <summary>A snapshot taken at or after <paramref name="notBefore"/>: the current one if it is, else a new build.</summary>
    Task<PlacementSnapshot> Fresh(DateTimeOffset notBefore);
}

/// <summary>
/// Rebuilds the <see cref="PlacementSnapshot"/> every <see cref="PlacementOptions.SnapshotInterval"/> and publishes it
/// by swapping one volatile reference: placement reads it with no lock and never waits for Redis to learn what
/// workers exist. A build reads the live-worker index and each worker's two hashes, the unavailable-service index and
/// the capacity hold, and takes the pools from the reloadable options (<see cref="LastKnownGood{TOptions}"/>), so a
/// reloaded configuration applies at the next build, and one that fails validation leaves the last valid pools in
/// force. While Redis is down it is built from PostgreSQL instead: live workers from their heartbeats in
/// <c>workers</c>, what they hold from the unreleased allocation rows, no service reports and no hold. Builds are one at a time; a caller that needs a fresh one (the pending-job pass, after an event
/// said capacity changed) waits for the next build instead of starting its own.
/// </summary>
public sealed class PlacementSnapshots(
    WorkerRegistry registry,
    WorkerDirectory directory,
    RedisOutagePolicy outage,
    ServiceAvailability availability,
    PendingPassCoordinator coordinator,
    LastKnownGood<PlacementOptions> options,
    TimeProvider clock,
    ILogger<PlacementSnapshots> logger) : BackgroundService, IPlacementSnapshots
{
    readonly SemaphoreSlim _building = new(1, 1);
    volatile PlacementSnapshot? _current;
    (PlacementOptions Options, PoolSet Pools)? _compiled;
    bool _failing;

    /// <summary>The last snapshot built, without waiting for one: for gauges, which must never block a scrape.</summary>
    public PlacementSnapshot? Latest => _current;

    public ValueTask<PlacementSnapshot> Current() =>
        _current is { } snapshot ? ValueTask.FromResult(snapshot) : new ValueTask<PlacementSnapshot>(Fresh(DateTimeOffset.MinValue));

    public async Task<PlacementSnapshot> Fresh(DateTimeOffset notBefore)
    {
        await _building.WaitAsync();
        try
        {
            // A build that started after notBefore may have finished while this caller waited its turn.
            if (_current is { } current && current.TakenAt >= notBefore)
                return current;
            var started = Stopwatch.GetTimestamp();
            var built = await Build();
            _current = built;
            // What the live-worker view costs as the fleet grows: the scale benchmark reads these lines.
            logger.LogDebug("Snapshot of {Count} workers built in {Milliseconds:F3} ms", built.Workers.Count,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return built;
        }
        finally
        {
            _building.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Fresh(clock.GetUtcNow());
                if (_failing)
                    logger.LogInformation("Placement snapshots are being built again");
                _failing = false;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // Placement goes on with the last snapshot; the Lua reservation still refuses what it gets wrong.
                if (!_failing)
                    logger.LogWarning(e, "Building the placement snapshot failed; placement uses the last one until a build succeeds");
                _failing = true;
            }
            try
            {
                await Task.Delay(options.CurrentValue.SnapshotInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    async Task<PlacementSnapshot> Build()
    {
        var takenAt = clock.GetUtcNow();
        var settings = options.CurrentValue;
        var policy = new PlacementPolicy(settings.Balancing, settings.AgingInterval);
        return await outage.Run(async () =>
            {
                var workers = registry.ListLive();
                var unavailable = availability.ListUnavailable();
                var hold = coordinator.ReadHold();
                await Task.WhenAll(workers, unavailable, hold);
                return PlacementSnapshot.Create(await workers, Pools(settings), await unavailable, await hold, policy, takenAt);
            },
            fallback: async () => PlacementSnapshot.Create(await directory.ListLive(), Pools(settings), [], null, policy, takenAt));
    }

    /// <summary>The pools of the current options, compiled once per options instance (a reload makes a new one).</summary>
    PoolSet Pools(PlacementOptions settings)
    {
        if (_compiled is { } compiled && ReferenceEquals(compiled.Options, settings))
            return compiled.Pools;
        var pools = PoolSet.Compile(settings.Pools);
        _compiled = (settings, pools);
        logger.LogInformation("Placement pools: {Pools}", pools.Pools.Count == 0
            ? "none configured, every worker is in 'default'"
            : string.Join("; ", pools.Pools.Select(p => $"{p.Name} (services [{string.Join(",", p.Services)}], " +
                $"languages [{string.Join(",", p.Languages)}], worker prefixes [{string.Join(",", p.WorkerPrefixes)}])")));
        return pools;
    }
}

/// <summary>
/// A snapshot built afresh for every placement, with no pools, reports or hold: what placement did before snapshots.
/// For tools and tests that drive <see cref="PlacementEngine"/> directly.
/// </summary>
public sealed class FreshSnapshots(WorkerRegistry registry, TimeProvider clock) : IPlacementSnapshots
{
    public async ValueTask<PlacementSnapshot> Current() => await Fresh(clock.GetUtcNow());

    public async Task<PlacementSnapshot> Fresh(DateTimeOffset notBefore) =>
        PlacementSnapshot.Create(await registry.ListLive(), PoolSet.Empty, [], null, PlacementPolicy.Default, clock.GetUtcNow());
}

using Bus.Capacity.Workers;
using Bus.Hosting.Options;
using Bus.Scheduler.Extensions;
using Bus.Scheduler.Placement;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using static Bus.Scheduler.Tests.PlacementData;

namespace Bus.Scheduler.Tests;

/// <summary>
/// The scheduler's placement options as its readers get them (<see cref="LastKnownGood{TOptions}"/> over the real
/// options monitor, registered by <see cref="SchedulerExtensions.AddPlacementOptions"/>), through reloads of an
/// in-memory configuration: a valid reload takes effect, an invalid one is logged once and placement goes on with the
/// last valid options.
/// </summary>
public sealed class PlacementOptionsReloadTests : IDisposable
{
    readonly IConfigurationRoot _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Placement:Pools:0:Name"] = "gpu",
        ["Placement:Pools:0:WorkerPrefixes:0"] = "gpu-",
        ["Placement:StaleSnapshotTries"] = "2",
    }).Build();
    readonly ServiceProvider _services;
    readonly LastKnownGood<PlacementOptions> _options;
    readonly FakeLogCollector _logs;

    // Two idle workers alike but for their ids, so only the pools decide which one placement tries first.
    readonly WorkerSnapshot[] _workers = [Worker("cpu-1", cpus: 8), Worker("gpu-1", cpus: 8)];

    public PlacementOptionsReloadTests()
    {
        _services = new ServiceCollection().AddSingleton<IConfiguration>(_configuration).AddFakeLogging().AddPlacementOptions()
            .BuildServiceProvider();
        _options = _services.GetRequiredService<LastKnownGood<PlacementOptions>>();
        _logs = _services.GetFakeLogCollector();
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public void A_valid_reload_takes_effect_at_the_next_read()
    {
        var before = _options.CurrentValue;
        Assert.Equal("gpu-1", FirstChoice(before, pool: "gpu"));

        Set(("Placement:Pools:0:Name", "cpu"), ("Placement:Pools:0:WorkerPrefixes:0", "cpu-"), ("Placement:StaleSnapshotTries", "0"));
        _configuration.Reload();

        var after = _options.CurrentValue;
        Assert.NotSame(before, after);
        Assert.Equal(("cpu", 0), (after.Pools.Single().Name, after.StaleSnapshotTries));
        Assert.Equal("cpu-1", FirstChoice(after, pool: "cpu"));
        Assert.Empty(Warnings());
    }

    [Fact]
    public void A_reload_that_fails_validation_is_logged_once_and_placement_keeps_the_last_valid_options()
    {
        var valid = _options.CurrentValue;

        // A pool may not be called 'default', and intervals must be positive: two failures in one reload.
        Set(("Placement:Pools:0:Name", "default"), ("Placement:SnapshotInterval", "-00:00:01"));
        // The monitor validates on the thread that reloads (in a service, the file watcher's) and refuses there; its
        // CurrentValue then throws until the configuration is fixed.
        Assert.Throws<AggregateException>(_configuration.Reload);
        Assert.Throws<OptionsValidationException>(() => _services.GetRequiredService<IOptionsMonitor<PlacementOptions>>().CurrentValue);

        for (var read = 0; read < 3; read++)
        {
            Assert.Same(valid, _options.CurrentValue);
            Assert.Equal("gpu-1", FirstChoice(_options.CurrentValue, pool: "gpu"));
        }
        var warning = Assert.Single(Warnings());
        Assert.Contains("keeping the previous ones", warning.Message);
        Assert.Contains("'default' is the implicit pool", warning.Message);
        Assert.Contains("intervals and TTLs must be positive", warning.Message);

        // Fixed, the new options apply; broken again, the new failure is logged again, once.
        Set(("Placement:Pools:0:Name", "gpu2"), ("Placement:SnapshotInterval", "00:00:01"));
        _configuration.Reload();
        var fixedOptions = _options.CurrentValue;
        Assert.Equal(("gpu2", TimeSpan.FromSeconds(1)), (fixedOptions.Pools.Single().Name, fixedOptions.SnapshotInterval));
        Set(("Placement:StaleSnapshotTries", "-1"));
        Assert.Throws<AggregateException>(_configuration.Reload);
        Assert.Same(fixedOptions, _options.CurrentValue);
        Assert.Same(fixedOptions, _options.CurrentValue);
        Assert.Equal(2, Warnings().Count);
        Assert.Contains("StaleSnapshotTries must be 0 or more", Warnings()[^1].Message);
    }

    [Fact]
    public void Options_that_were_never_valid_are_not_papered_over()
    {
        Set(("Placement:Pools:0:Name", "default"));
        Assert.Throws<AggregateException>(_configuration.Reload);

        // Nothing valid was ever read, so there is nothing to keep: the reader fails as the monitor does.
        Assert.Throws<OptionsValidationException>(() => _options.CurrentValue);
    }

    /// <summary>The worker placement would try first for a shell job preferring the pool, from a snapshot of these options' pools.</summary>
    string FirstChoice(PlacementOptions options, string pool) =>
        WorkerSelector.Select(Snapshot(_workers, [.. options.Pools]), Request(pool: pool)).Candidates[0].WorkerId;

    void Set(params (string Key, string Value)[] settings)
    {
        foreach (var (key, value) in settings)
            _configuration[key] = value;
    }

    IReadOnlyList<FakeLogRecord> Warnings() => _logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning).ToList();
}

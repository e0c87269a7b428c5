using System.Collections.Concurrent;
using Bus.Contracts;
using Bus.Scheduler.Observability;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bus.Scheduler.Tests;

/// <summary>The utilization alert: once on the way up, once on the way down after a wait, never while it stays above.</summary>
public sealed class UtilizationAlertTests
{
    static readonly DateTimeOffset Now = DateTimeOffset.UnixEpoch;

    [Fact]
    public void Reaching_the_threshold_alerts_once_and_staying_above_says_nothing_more()
    {
        var crossings = new ThresholdCrossings(0.9);

        Assert.Null(crossings.Observe("w1", 0.5, Now));
        var up = crossings.Observe("w1", 0.9, Now);
        Assert.Null(crossings.Observe("w1", 0.95, Now));
        Assert.Null(crossings.Observe("w1", 1.0, Now));

        Assert.Equal(new UtilizationThresholdCrossed("w1", 0.9, 0.9, true, Now), up);
    }

    [Fact]
    public void Falling_back_below_is_said_once()
    {
        var crossings = new ThresholdCrossings(0.9);
        crossings.Observe("w1", 0.95, Now);

        var down = crossings.Observe("w1", 0.85, Now);
        Assert.Null(crossings.Observe("w1", 0.2, Now));

        Assert.Equal(new UtilizationThresholdCrossed("w1", 0.85, 0.9, false, Now), down);
        Assert.True(crossings.Observe("w1", 0.92, Now)?.Above); // and the next rise alerts again
    }

    [Fact]
    public void With_a_margin_a_worker_that_stays_nearly_full_alerts_once_and_clears_only_below_the_margin()
    {
        var crossings = new ThresholdCrossings(0.9, hysteresis: 0.2);

        Assert.True(crossings.Observe("w1", 1.0, Now)?.Above);
        // A 4-cpu worker running 1-cpu jobs: each end drops it to 75%, each placement fills it again.
        foreach (var utilization in new[] { 0.75, 1.0, 0.75, 1.0, 0.7 })
            Assert.Null(crossings.Observe("w1", utilization, Now));

        Assert.Equal(new UtilizationThresholdCrossed("w1", 0.5, 0.9, false, Now), crossings.Observe("w1", 0.5, Now));
        Assert.Null(crossings.Observe("w1", 0.85, Now)); // below: rising back to 85% is not a crossing
    }

    [Fact]
    public void Workers_and_the_cluster_cross_independently()
    {
        var crossings = new ThresholdCrossings(0.9);

        Assert.NotNull(crossings.Observe("w1", 1.0, Now));
        Assert.NotNull(crossings.Observe("w2", 0.9, Now));
        Assert.Null(crossings.Observe(UtilizationAlertObserver.ClusterScope, 0.6, Now));
        Assert.Null(crossings.Observe("w1", 0.99, Now));
    }

    [Fact]
    public void With_a_wait_an_alert_clears_only_once_utilization_has_stayed_below_for_it()
    {
        var crossings = new ThresholdCrossings(0.9, hysteresis: 0.2, clearAfter: TimeSpan.FromSeconds(10));
        Assert.True(crossings.Observe("w1", 1.0, Now)?.Above);

        // Jobs of milliseconds: the worker empties and fills again and again.
        Assert.Null(crossings.Observe("w1", 0.0, Now));
        Assert.Equal(Now.AddSeconds(10), crossings.NextClearDue);
        Assert.Null(crossings.Observe("w1", 1.0, Now.AddSeconds(3))); // full again: the wait starts over
        Assert.Null(crossings.NextClearDue);
        Assert.Null(crossings.Observe("w1", 0.25, Now.AddSeconds(4)));
        Assert.Empty(crossings.ClearsDue(Now.AddSeconds(13.9)));
        Assert.Null(crossings.Observe("w1", 0.0, Now.AddSeconds(13.9)));

        Assert.Equal(["w1"], crossings.ClearsDue(Now.AddSeconds(14)));
        Assert.Equal(new UtilizationThresholdCrossed("w1", 0.1, 0.9, false, Now.AddSeconds(14)), crossings.Observe("w1", 0.1, Now.AddSeconds(14)));
        Assert.Null(crossings.NextClearDue);
    }

    [Fact]
    public async Task The_observer_publishes_each_crossing_once_from_its_background_loop()
    {
        var source = new FakeUtilization { Cluster = 0.95 };
        await using var observed = await Observed.Start(source, new ObserverOptions
        {
            ClusterCheckInterval = TimeSpan.FromHours(1),
            UtilizationAlertClearAfter = TimeSpan.Zero,
        });

        // Each step waits until the loop has read the worker, so no two steps are folded into one read.
        await observed.Step(0.95, reads: 1); // up
        await observed.Step(0.97, reads: 2); // still above: nothing
        await observed.Step(0.50, reads: 3); // down
        await observed.Step(0.40, reads: 4); // still below: nothing
        await observed.Step(0.90, reads: 5); // up again
        Assert.True(await observed.Harness.Published.Any<UtilizationThresholdCrossed>(m => m.Context.Message is { Scope: "w1", Utilization: 0.90 }));

        var published = observed.Published();
        Assert.Equal([true, false, true], published.Where(m => m.Scope == "w1").Select(m => m.Above));
        // The cluster is read with the first change only (the interval is an hour), and it was above.
        Assert.Equal([(UtilizationAlertObserver.ClusterScope, 0.95, true)],
            published.Where(m => m.Scope != "w1").Select(m => (m.Scope, m.Utilization, m.Above)));
    }

    [Fact]
    public async Task A_worker_gone_quiet_below_the_threshold_is_read_again_and_cleared_once_the_wait_is_over()
    {
        var clearAfter = TimeSpan.FromSeconds(1);
        var source = new FakeUtilization { Cluster = 0.5 };
        await using var observed = await Observed.Start(source, new ObserverOptions
        {
            ClusterCheckInterval = TimeSpan.FromHours(1),
            UtilizationAlertClearAfter = clearAfter,
        });

        await observed.Step(0.95, reads: 1); // up
        var fellAt = DateTimeOffset.UtcNow;
        await observed.Step(0.10, reads: 2); // below: the clearing waits

        // No change comes after: the loop reads the worker again by itself when the wait is over, and only then clears.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!observed.Published().Any(m => !m.Above))
        {
            Assert.True(DateTime.UtcNow < deadline, "the alert was not cleared within 10 s");
            await Task.Delay(10);
        }
        var cleared = observed.Published().Single(m => !m.Above);
        Assert.True(cleared.At >= fellAt + clearAfter, $"cleared at {cleared.At:O}, {cleared.At - fellAt} after the fall");
        Assert.True(source.Reads >= 3);
    }

    [Fact]
    public async Task A_clearing_whose_read_fails_is_read_again_after_a_pause_not_in_a_busy_loop()
    {
        var source = new FakeUtilization { Cluster = 0.5 };
        await using var observed = await Observed.Start(source, new ObserverOptions
        {
            ClusterCheckInterval = TimeSpan.FromHours(1),
            UtilizationAlertClearAfter = TimeSpan.FromMilliseconds(100),
        });
        await observed.Step(0.95, reads: 1);
        await observed.Step(0.10, reads: 2);

        source.Fails = true; // Redis went away while the clearing waits
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (source.FailedReads.Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {source.FailedReads.Count} failed reads within 10 s");
            await Task.Delay(10);
        }

        var failed = source.FailedReads.ToArray();
        Assert.True(failed[2] - failed[1] >= TimeSpan.FromMilliseconds(900), $"read again after {failed[2] - failed[1]}");
        Assert.DoesNotContain(observed.Published(), m => !m.Above);
    }

    /// <summary>The observer's loop over a fake utilization source, publishing to MassTransit's test harness.</summary>
    sealed class Observed(ServiceProvider provider, ITestHarness harness, UtilizationAlertObserver observer, FakeUtilization source) : IAsyncDisposable
    {
        public ITestHarness Harness => harness;

        public static async Task<Observed> Start(FakeUtilization source, ObserverOptions options)
        {
            var provider = new ServiceCollection()
                .AddMetrics()
                .AddLogging()
                .AddSingleton<IUtilizationSource>(source)
                .AddSingleton(TimeProvider.System)
                .AddSingleton(Options.Create(options))
                .AddSingleton<UtilizationAlertObserver>()
                .AddMassTransitTestHarness()
                .BuildServiceProvider(true);
            var harness = provider.GetRequiredService<ITestHarness>();
            await harness.Start();
            var observer = provider.GetRequiredService<UtilizationAlertObserver>();
            await observer.StartAsync(CancellationToken.None);
            return new Observed(provider, harness, observer, source);
        }

        /// <summary>Sets w1's utilization, tells the observer it changed, and waits until the loop has read it.</summary>
        public async Task Step(double utilization, int reads)
        {
            source.Workers["w1"] = utilization;
            observer.OnAllocated(new AllocationEvent(Guid.NewGuid(), 1, "w1", new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (source.Reads < reads)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the loop did not read w1 a {reads}th time");
                await Task.Delay(10);
            }
        }

        public List<UtilizationThresholdCrossed> Published() =>
            harness.Published.Select<UtilizationThresholdCrossed>().Select(m => m.Context.Message).ToList();

        public async ValueTask DisposeAsync()
        {
            await observer.StopAsync(CancellationToken.None);
            await harness.Stop();
            await provider.DisposeAsync();
        }
    }

    [Fact]
    public void A_threshold_outside_0_to_1_is_refused()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection([new("Observers:UtilizationAlertThreshold", "1.5")]);
        builder.AddAllocationObservers();
        using var host = builder.Build();

        var refused = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<ObserverOptions>>().Value);
        Assert.Contains("UtilizationAlertThreshold", refused.Message);
    }

    sealed class FakeUtilization : IUtilizationSource
    {
        int _reads;

        public ConcurrentDictionary<string, double> Workers { get; } = new();
        public double Cluster { get; init; }
        public int Reads => Volatile.Read(ref _reads);

        public volatile bool Fails;
        public ConcurrentQueue<DateTime> FailedReads { get; } = new();

        public Task<double?> Worker(string workerId)
        {
            if (Fails)
            {
                FailedReads.Enqueue(DateTime.UtcNow);
                throw new TimeoutException("Redis does not answer");
            }
            double? utilization = Workers.TryGetValue(workerId, out var u) ? u : null;
            Interlocked.Increment(ref _reads);
            return Task.FromResult(utilization);
        }

        Task<double?> IUtilizationSource.Cluster() => Task.FromResult<double?>(Cluster);
    }
}

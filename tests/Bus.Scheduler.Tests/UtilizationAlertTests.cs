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

/// <summary>The utilization alert: once on the way up, once on the way down, never while it stays above.</summary>
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
    public async Task The_observer_publishes_each_crossing_once_from_its_background_loop()
    {
        var source = new FakeUtilization { Cluster = 0.95 };
        await using var provider = new ServiceCollection()
            .AddMetrics()
            .AddLogging()
            .AddSingleton<IUtilizationSource>(source)
            .AddSingleton(TimeProvider.System)
            .AddSingleton(Options.Create(new ObserverOptions { ClusterCheckInterval = TimeSpan.FromHours(1) }))
            .AddSingleton<UtilizationAlertObserver>()
            .AddMassTransitTestHarness()
            .BuildServiceProvider(true);
        var harness = provider.GetRequiredService<ITestHarness>();
        await harness.Start();
        var observer = provider.GetRequiredService<UtilizationAlertObserver>();
        await observer.StartAsync(CancellationToken.None);

        // Each step waits until the loop has read the worker, so no two steps are folded into one read.
        await Step(0.95, observer.OnAllocated, reads: 1); // up
        await Step(0.97, observer.OnAllocated, reads: 2); // still above: nothing
        await Step(0.50, observer.OnReleased, reads: 3);  // down
        await Step(0.40, observer.OnReleased, reads: 4);  // still below: nothing
        await Step(0.90, observer.OnAllocated, reads: 5); // up again
        Assert.True(await harness.Published.Any<UtilizationThresholdCrossed>(m => m.Context.Message is { Scope: "w1", Utilization: 0.90 }));

        var published = harness.Published.Select<UtilizationThresholdCrossed>().Select(m => m.Context.Message).ToList();
        Assert.Equal([true, false, true], published.Where(m => m.Scope == "w1").Select(m => m.Above));
        // The cluster is read with the first change only (the interval is an hour), and it was above.
        Assert.Equal([(UtilizationAlertObserver.ClusterScope, 0.95, true)],
            published.Where(m => m.Scope != "w1").Select(m => (m.Scope, m.Utilization, m.Above)));

        await observer.StopAsync(CancellationToken.None);
        await harness.Stop();

        async Task Step(double utilization, Action<AllocationEvent> notify, int reads)
        {
            source.Workers["w1"] = utilization;
            notify(new AllocationEvent(Guid.NewGuid(), 1, "w1", new ResourceVector(1, 0, 0), DateTimeOffset.UtcNow));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (source.Reads < reads)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the loop did not read w1 a {reads}th time");
                await Task.Delay(10);
            }
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

        public Task<double?> Worker(string workerId)
        {
            double? utilization = Workers.TryGetValue(workerId, out var u) ? u : null;
            Interlocked.Increment(ref _reads);
            return Task.FromResult(utilization);
        }

        Task<double?> IUtilizationSource.Cluster() => Task.FromResult<double?>(Cluster);
    }
}

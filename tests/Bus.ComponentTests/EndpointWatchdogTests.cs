using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.Hosting.Messaging;
using Bus.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Bus.ComponentTests;

public sealed record WatchdogProbe(int N);

public sealed class WatchdogProbeConsumer(WatchdogProbeConsumer.Seen seen) : IConsumer<WatchdogProbe>
{
    public sealed class Seen
    {
        public int Count;
    }

    public Task Consume(ConsumeContext<WatchdogProbe> context)
    {
        Interlocked.Increment(ref seen.Count);
        return Task.CompletedTask;
    }
}

/// <summary>
/// <see cref="EndpointWatchdog"/> on the real broker, in a virtual host of its own, with the services' own bus
/// set-up (<see cref="BusExtensions.AddBus"/>) and a fake clock for its delay.
/// </summary>
public sealed class EndpointWatchdogTests : IAsyncLifetime
{
    const string Queue = "watchdog-probe";
    readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    readonly WatchdogProbeConsumer.Seen _seen = new();
    readonly EndpointCapture _capture = new();
    TestVirtualHost _vhost = null!;
    IHost _host = null!;

    public async Task InitializeAsync()
    {
        _vhost = await TestVirtualHost.Create();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitMq:Host"] = TestEnvironment.RabbitHost,
            ["RabbitMq:Port"] = TestEnvironment.RabbitPort.ToString(),
            ["RabbitMq:VirtualHost"] = _vhost.Name,
            ["RabbitMq:Username"] = TestEnvironment.RabbitUser,
            ["RabbitMq:Password"] = TestEnvironment.RabbitPassword,
        });
        builder.Services.AddSingleton<TimeProvider>(_clock);
        builder.Services.AddSingleton(_seen);
        builder.Services.AddReceiveEndpointObserver(_ => _capture);
        builder.AddBus(x => x.AddConsumer<WatchdogProbeConsumer>());
        _host = builder.Build();
        await _host.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _vhost.DisposeAsync();
    }

    [Fact]
    public async Task An_endpoint_left_stopped_is_reported_unhealthy_and_started_again_after_the_delay_and_takes_its_queue()
    {
        var endpoint = await _capture.Endpoint.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var send = await _host.Services.GetRequiredService<IBus>().GetSendEndpoint(new Uri($"queue:{Queue}"));
        await send.Send(new WatchdogProbe(1));
        await Eventually.Get(() => Task.FromResult(_seen.Count), n => n == 1, TimeSpan.FromSeconds(30), "the first probe consumed");

        // What the kill switch leaves when its restart is lost: the endpoint stopped, nothing to start it.
        await endpoint.Stop();
        await Eventually.Get(Consumers, n => n == 0, TimeSpan.FromSeconds(30), "the queue without its consumer");
        await send.Send(new WatchdogProbe(2));
        var watchdog = _host.Services.GetRequiredService<EndpointWatchdog>();
        Assert.Equal(HealthStatus.Healthy, (await Health(watchdog)).Status); // stopped, but not for long yet
        Assert.Equal(1, _seen.Count);

        // Past the kill switch's own pause (30 s): unhealthy. Not yet the watchdog's delay (60 s): still stopped.
        _clock.Advance(TimeSpan.FromSeconds(45));
        var stalled = await Health(watchdog);
        Assert.Equal(HealthStatus.Unhealthy, stalled.Status);
        Assert.Contains($"{Queue} stopped, taking no message since", stalled.Description);
        Assert.Equal(1, _seen.Count);

        // The watchdog's pass at 60 s (its timer runs on the fake clock) starts it: the waiting probe is consumed.
        _clock.Advance(TimeSpan.FromSeconds(16));
        await Eventually.Get(() => Task.FromResult(_seen.Count), n => n == 2, TimeSpan.FromSeconds(30), "the waiting probe consumed");
        await Eventually.Get(Consumers, n => n == 1, TimeSpan.FromSeconds(30), "the queue's consumer back");
        Assert.Equal(HealthStatus.Healthy, (await Health(watchdog)).Status);
    }

    static Task<HealthCheckResult> Health(EndpointWatchdog watchdog) => watchdog.CheckHealthAsync(new HealthCheckContext());

    async Task<int> Consumers()
    {
        var queue = await _vhost.Management.GetFromJsonAsync<JsonObject>($"queues/{_vhost.Name}/{Queue}");
        return (int?)queue!["consumers"] ?? 0;
    }

    sealed class EndpointCapture : IReceiveEndpointObserver
    {
        public TaskCompletionSource<IReceiveEndpoint> Endpoint { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ready(ReceiveEndpointReady ready)
        {
            if (ready.InputAddress.AbsolutePath.EndsWith(Queue, StringComparison.Ordinal))
                Endpoint.TrySetResult(ready.ReceiveEndpoint);
            return Task.CompletedTask;
        }

        public Task Stopping(ReceiveEndpointStopping stopping) => Task.CompletedTask;
        public Task Completed(ReceiveEndpointCompleted completed) => Task.CompletedTask;
        public Task Faulted(ReceiveEndpointFaulted faulted) => Task.CompletedTask;
    }
}

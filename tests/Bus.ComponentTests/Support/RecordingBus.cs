using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.ComponentTests.Support;

/// <summary>MassTransit's in-memory harness for a component test's life: a real bus that records what is sent and published.</summary>
public sealed class RecordingBus : IAsyncDisposable
{
    readonly ServiceProvider _provider;

    RecordingBus(ServiceProvider provider) => _provider = provider;

    public ITestHarness Harness => _provider.GetRequiredService<ITestHarness>();

    public static async Task<RecordingBus> Start()
    {
        var bus = new RecordingBus(new ServiceCollection().AddMassTransitTestHarness().BuildServiceProvider(true));
        await bus.Harness.Start();
        return bus;
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _provider.DisposeAsync();
    }
}

using MassTransit;

namespace Bus.SystemTests.Support;

/// <summary>A bus of the test's own on a running system's virtual host, for a test that plays a service's part.</summary>
public static class TestBus
{
    public static async Task<IBusControl> Start(RunningSystem system)
    {
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(TestEnvironment.RabbitHost, (ushort)TestEnvironment.RabbitPort, system.VirtualHost, h =>
        {
            h.Username(TestEnvironment.RabbitUser);
            h.Password(TestEnvironment.RabbitPassword);
        }));
        await bus.StartAsync();
        return bus;
    }
}

using Bus.Hosting.Resilience;
using MassTransit;

namespace Bus.Hosting.Messaging;

/// <summary>
/// Every receive endpoint pauses through an outage rather than faulting its messages. Two layers, neither needing
/// delayed redelivery: a message whose handling throws is retried in memory, unacknowledged, for
/// <see cref="RideThroughOptions.OutageWindow"/> (a saga version conflict is retried at once, the same way); and a
/// kill switch stops the endpoint once messages still fault for want of a server after that, so the rest of the queue
/// stays in RabbitMQ instead of draining into <c>_error</c>. The kill switch counts a message only after its retries
/// are used up, and only outage exceptions (<see cref="OutageExceptions"/>): a bad message alone never stops an endpoint.
/// </summary>
public static class RideThrough
{
    public static void UseRideThrough(this IBusFactoryConfigurator cfg, RideThroughOptions options)
    {
        cfg.UseMessageRetry(r => r.Intervals(options.RetryIntervals()));
        cfg.UseKillSwitch(k => k
            .SetActivationThreshold(1)
            .SetTripThreshold(1)
            .SetTrackingPeriod(options.OutageWindow + options.OutageWindow)
            .SetRestartTimeout(options.KillSwitchRestart)
            .SetExceptionFilter(f => f.Handle<Exception>(OutageExceptions.IsOutage)));
    }
}

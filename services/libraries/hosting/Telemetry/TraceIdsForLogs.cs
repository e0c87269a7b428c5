using System.Diagnostics;

namespace Bus.Hosting.Telemetry;

/// <summary>
/// While no trace exporter is configured, MassTransit's activities are still created, as propagation data only (ids,
/// no tags, nothing recorded or exported): so a log line written while a message is handled carries the trace id
/// that the message brought from the request that caused it, and the next message sent carries it on. One listener
/// per process, started before the bus is, and kept for the process's life.
/// </summary>
static class TraceIdsForLogs
{
    static readonly Lazy<ActivityListener> Listener = new(() =>
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "MassTransit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    });

    public static void EnsureStarted() => _ = Listener.Value;
}

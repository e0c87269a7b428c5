using System.Diagnostics.Metrics;

namespace Bus.Scheduler.Observability;

/// <summary>
/// The scheduler's domain metrics on the <c>Bus.Scheduler</c> meter (docs/observability.md lists each with its
/// unit and labels). Static, like the runtime's own instruments, because the types that record them are also built
/// by hand in tools and tests; OpenTelemetry listens by meter name, so they join the DI-made instruments of
/// <see cref="MetricsObserver"/> in one export, and so does the ledger's reservation time (Bus.Capacity's
/// LedgerInstruments), recorded on this meter too.
/// </summary>
public static class SchedulerInstruments
{
    static readonly Meter Meter = new(MetricsObserver.MeterName);

    static readonly Histogram<double> PlacementDuration = Meter.CreateHistogram<double>("bus.scheduler.placement.duration", "ms",
        "One placement decision: snapshot read, worker choice and the reservation");
    static readonly Counter<long> Submitted = Meter.CreateCounter<long>("bus.scheduler.jobs.submitted", "{job}", "Jobs the saga accepted");
    static readonly Counter<long> Finished = Meter.CreateCounter<long>("bus.scheduler.jobs.finished", "{job}",
        "Jobs that reached a final state: Completed, Failed, TimedOut or Cancelled");
    static readonly Histogram<double> StartLatency = Meter.CreateHistogram<double>("bus.scheduler.job.start_latency", "s",
        "From submission to the first attempt running");
    static readonly Counter<long> Alerts = Meter.CreateCounter<long>("bus.scheduler.alerts", "{alert}",
        "Utilization alerts raised (above) and cleared (below)");

    public static void Placed(TimeSpan took, bool placed) =>
        PlacementDuration.Record(took.TotalMilliseconds, new KeyValuePair<string, object?>("outcome", placed ? "placed" : "waiting"));

    public static void JobSubmitted(string service) => Submitted.Add(1, new KeyValuePair<string, object?>("service", service));

    public static void JobFinished(string service, string state) =>
        Finished.Add(1, new KeyValuePair<string, object?>("service", service), new KeyValuePair<string, object?>("state", state));

    public static void JobStarted(string service, TimeSpan sinceSubmission) =>
        StartLatency.Record(Math.Max(0, sinceSubmission.TotalSeconds), new KeyValuePair<string, object?>("service", service));

    public static void UtilizationAlert(bool above) =>
        Alerts.Add(1, new KeyValuePair<string, object?>("kind", "utilization"), new KeyValuePair<string, object?>("direction", above ? "above" : "below"));
}

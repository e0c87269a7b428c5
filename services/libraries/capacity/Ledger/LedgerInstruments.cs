using System.Diagnostics.Metrics;

namespace Bus.Capacity.Ledger;

/// <summary>
/// The ledger's metric. It is recorded where capacity is taken, in the scheduler, so it is on the scheduler's meter
/// (<c>Bus.Scheduler</c>, listed in docs/observability.md): OpenTelemetry listens by meter name, so this meter and the
/// scheduler's own instruments export as one.
/// </summary>
internal static class LedgerInstruments
{
    static readonly Meter Meter = new("Bus.Scheduler");

    static readonly Histogram<double> ReservationDuration = Meter.CreateHistogram<double>("bus.scheduler.reservation.duration", "ms",
        "Taking capacity on one worker and recording its allocation row");

    public static void Reserved(TimeSpan took, bool onDatabase) =>
        ReservationDuration.Record(took.TotalMilliseconds, new KeyValuePair<string, object?>("store", onDatabase ? "postgres" : "redis"));
}

using System.Diagnostics.Metrics;

namespace Bus.Scheduler.Observability;

/// <summary>
/// Allocation and release counts on the <c>Bus.Scheduler</c> meter (System.Diagnostics.Metrics, so
/// <c>dotnet-counters</c> or any OpenTelemetry exporter can read them). The utilization gauge lives with
/// <see cref="UtilizationAlertObserver"/>, which is where utilization is read, off the placement path.
/// </summary>
public sealed class MetricsObserver : IAllocationObserver
{
    public const string MeterName = "Bus.Scheduler";

    readonly Counter<long> _allocations;
    readonly Counter<long> _releases;
    readonly Histogram<int> _allocatedCpus;

    public MetricsObserver(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _allocations = meter.CreateCounter<long>("bus.scheduler.allocations", "{allocation}", "Job attempts placed on a worker");
        _releases = meter.CreateCounter<long>("bus.scheduler.releases", "{release}", "Job attempts whose allocation was released");
        _allocatedCpus = meter.CreateHistogram<int>("bus.scheduler.allocation.cpus", "{cpu}", "CPUs taken per allocation");
    }

    public void OnAllocated(AllocationEvent allocation)
    {
        var worker = new KeyValuePair<string, object?>("worker", allocation.WorkerId);
        _allocations.Add(1, worker);
        if (allocation.Resources is { } resources)
            _allocatedCpus.Record(resources.Cpus, worker);
    }

    public void OnReleased(AllocationEvent release) =>
        _releases.Add(1, new KeyValuePair<string, object?>("worker", release.WorkerId));
}

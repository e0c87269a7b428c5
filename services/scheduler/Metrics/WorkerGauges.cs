using System.Diagnostics.Metrics;
using Bus.Scheduler.Observability;
using Bus.Scheduler.Placement;

namespace Bus.Scheduler.Metrics;

/// <summary>
/// Each live worker's capacity and what is used of it, per resource, read from the latest placement snapshot when
/// scraped: no Redis call of their own, and never older than one snapshot interval.
/// </summary>
public sealed class WorkerGauges
{
    static readonly string[] Resources = ["cpus", "memory_mb", "gpus"];

    public WorkerGauges(PlacementSnapshots snapshots, IMeterFactory meters)
    {
        var meter = meters.Create(MetricsObserver.MeterName);
        meter.CreateObservableGauge("bus.scheduler.workers", () => snapshots.Latest?.Workers.Count ?? 0, "{worker}",
            "Live workers in the latest placement snapshot");
        meter.CreateObservableGauge("bus.scheduler.worker.capacity", () => Measure(snapshots, w => w.Registration.Capacity), "{unit}",
            "What a live worker offers, per resource (cpus, memory_mb, gpus)");
        meter.CreateObservableGauge("bus.scheduler.worker.used", () => Measure(snapshots, w => w.Used), "{unit}",
            "What is allocated on a live worker, per resource (cpus, memory_mb, gpus)");
    }

    static IEnumerable<Measurement<int>> Measure(PlacementSnapshots snapshots, Func<Bus.Capacity.Workers.WorkerSnapshot, Bus.Contracts.ResourceVector> pick)
    {
        foreach (var worker in snapshots.Latest?.Workers ?? [])
        {
            var vector = pick(worker.Worker);
            int[] values = [vector.Cpus, vector.MemoryMb, vector.Gpus];
            for (var i = 0; i < Resources.Length; i++)
                yield return new Measurement<int>(values[i],
                    new KeyValuePair<string, object?>("worker", worker.WorkerId), new KeyValuePair<string, object?>("resource", Resources[i]));
        }
    }
}

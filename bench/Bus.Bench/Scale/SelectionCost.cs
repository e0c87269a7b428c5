using Bus.Capacity.Pools;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Scheduler.Placement;

namespace Bus.Bench.Scale;

/// <summary>
/// The one part of a placement whose work grows with the number of workers, alone and in-process: choosing workers
/// from the snapshot (<see cref="WorkerSelector.Select"/>), with no I/O around it. Snapshots of N idle workers shaped
/// as the simulated ones; a probe that fits, and a backlog job too big for any of them.
/// </summary>
public static class SelectionCost
{
    const int Calls = 2_000;

    public static void Report(IEnumerable<int> workerCounts, int cpus)
    {
        Console.WriteLine();
        Console.WriteLine($"WorkerSelector.Select alone, in-process, {Calls:N0} calls each (us per call):");
        Console.WriteLine($"{"workers",7}{"probe p50",12}{"p99",8}{"backlog job p50",18}{"p99",8}");
        foreach (var workers in workerCounts)
        {
            var snapshot = Snapshot(workers, cpus);
            var probe = Time(snapshot, new ResourceVector(1, 0, 0));
            var backlog = Time(snapshot, new ResourceVector(PendingSeed.Cpus, 0, 0));
            Console.WriteLine($"{workers,7:N0}{probe.P50,12:F1}{probe.P99,8:F1}{backlog.P50,18:F1}{backlog.P99,8:F1}");
        }
    }

    static PlacementSnapshot Snapshot(int workers, int cpus) => PlacementSnapshot.Create(
        Enumerable.Range(1, workers).Select(i => new WorkerSnapshot(
            new WorkerRegistration($"sim-{i:D4}", new ResourceVector(cpus, 8192, 0), cpus, ["noop"], [], WorkerStatus.Ready),
            new ResourceVector(0, 0, 0), 0, DateTimeOffset.UtcNow)),
        PoolSet.Empty, [], null, PlacementPolicy.Default, DateTimeOffset.UtcNow);

    static (double P50, double P99) Time(PlacementSnapshot snapshot, ResourceVector need)
    {
        var request = new PlacementRequest(Guid.NewGuid(), 1, "noop", need, new PlacementConstraints(null, null, null, null));
        for (var i = 0; i < Calls / 4; i++)
            WorkerSelector.Select(snapshot, request); // warm-up: JIT tiers
        var micros = new double[Calls];
        for (var i = 0; i < Calls; i++)
        {
            var started = TimeProvider.System.GetTimestamp();
            WorkerSelector.Select(snapshot, request);
            micros[i] = TimeProvider.System.GetElapsedTime(started).TotalMicroseconds;
        }
        Array.Sort(micros);
        return (Percentiles.Of(micros, 0.50), Percentiles.Of(micros, 0.99));
    }
}

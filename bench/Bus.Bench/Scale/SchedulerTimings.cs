using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Bus.Bench.Scale;

/// <summary>What the scheduler spent in one measured window, from its own debug lines.</summary>
/// <param name="NoRoom">Placements that found no worker for the job (the backlog offered by the periodic pass), in ms.</param>
/// <param name="EventReads">Reads of the pending queue by event passes (a job ended or a worker joined), in ms.</param>
/// <param name="PeriodicReads">Reads of the head of the pending queue by the periodic pass, in ms.</param>
/// <param name="SnapshotBuilds">Builds of the placement snapshot (every live worker read from Redis), in ms.</param>
public sealed record SchedulerWindow(double[] NoRoom, double[] EventReads, double[] PeriodicReads, double[] SnapshotBuilds);

/// <summary>
/// The scheduler's own timings, read from the debug lines <c>PlacementEngine.Place</c>, <c>PendingJobDispatcher</c> and
/// <c>PlacementSnapshots</c> write when <c>Bus.Scheduler.Placement</c> logs at Debug: each placement's time inside the
/// engine, without the saga around it, each read of the pending queue, and each build of the placement snapshot.
/// </summary>
public sealed partial class SchedulerTimings
{
    readonly ConcurrentDictionary<Guid, double> _placed = new();
    readonly ConcurrentQueue<double> _noRoom = new();
    readonly ConcurrentQueue<(string Pass, double Ms)> _reads = new();
    readonly ConcurrentQueue<double> _snapshots = new();

    /// <summary>The settings that make the scheduler write the lines, one per line, as this class parses them.</summary>
    public static IEnumerable<(string Key, string Value)> Settings =>
    [
        ("Logging__LogLevel__Bus.Scheduler.Placement", "Debug"),
        ("Logging__Console__FormatterName", "simple"),
        ("Logging__Console__FormatterOptions__SingleLine", "true"),
    ];

    /// <summary>Takes one line of the scheduler's output.</summary>
    public void Observe(string line)
    {
        if (Placement().Match(line) is { Success: true } placement)
        {
            var ms = Milliseconds(placement);
            if (placement.Groups["outcome"].Value == "placed")
                _placed[Guid.Parse(placement.Groups["job"].Value)] = ms;
            else
                _noRoom.Enqueue(ms);
        }
        else if (PendingRead().Match(line) is { Success: true } read)
        {
            _reads.Enqueue((read.Groups["pass"].Value, Milliseconds(read)));
        }
        else if (SnapshotBuild().Match(line) is { Success: true } build)
        {
            _snapshots.Enqueue(Milliseconds(build));
        }
    }

    /// <summary>How long placing the job took in the engine, for the attempt that was placed; null if no line said.</summary>
    public double? Placed(Guid jobId) => _placed.TryGetValue(jobId, out var ms) ? ms : null;

    /// <summary>Everything but placed jobs' times since the last call, each sorted ascending.</summary>
    public SchedulerWindow Take()
    {
        var noRoom = Drain(_noRoom);
        var reads = Drain(_reads);
        return new SchedulerWindow(
            noRoom.Order().ToArray(),
            reads.Where(r => r.Pass == "event").Select(r => r.Ms).Order().ToArray(),
            reads.Where(r => r.Pass == "periodic").Select(r => r.Ms).Order().ToArray(),
            Drain(_snapshots).Order().ToArray());
    }

    static List<T> Drain<T>(ConcurrentQueue<T> queue)
    {
        var items = new List<T>();
        while (queue.TryDequeue(out var item))
            items.Add(item);
        return items;
    }

    static double Milliseconds(Match match) => double.Parse(match.Groups["ms"].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Placement of job (?<job>[0-9a-f-]{36}) attempt \d+ took (?<ms>[0-9.]+) ms: (?<outcome>\w+)")]
    private static partial Regex Placement();

    [GeneratedRegex(@"Pending read \((?<pass>\w+) pass\): \d+ jobs in (?<ms>[0-9.]+) ms")]
    private static partial Regex PendingRead();

    [GeneratedRegex(@"Snapshot of \d+ workers built in (?<ms>[0-9.]+) ms")]
    private static partial Regex SnapshotBuild();
}

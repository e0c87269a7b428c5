using Bus.Persistence.Jobs;

namespace Bus.Scheduler.Placement;

/// <summary>
/// What the pending read filters on before it limits, so that jobs no worker could take never fill a batch and hide
/// placeable jobs behind them: the (service, language) pairs some worker offers, and the most of each resource one
/// such worker has. A superset of what placement accepts (pools, exclusions and unavailable reports are left to the
/// selector), so it never leaves out a job that could be placed.
/// </summary>
/// <param name="Services">Services offered, for jobs without a language.</param>
/// <param name="Pairs">Each offered service and language joined by <see cref="Separator"/>, for jobs with one.</param>
public sealed record PendingEligibility(int Cpus, int MemoryMb, int Gpus, string[] Services, string[] Pairs)
{
    /// <summary>Joins service and language in <see cref="Pairs"/>; a character neither can contain (both are validated).</summary>
    public const char Separator = PendingFilter.Separator;

    /// <summary>The same bounds, as the pending read filters on them.</summary>
    public PendingFilter Filter => new(Cpus, MemoryMb, Gpus, Services, Pairs);

    /// <summary>
    /// From the ready workers of the snapshot: by their capacity (could ever hold the job), or with
    /// <paramref name="freeRoomOnly"/> by their free room, counting only workers with a free job slot (could hold it now).
    /// Null when there is no such worker: nothing could be placed.
    /// </summary>
    public static PendingEligibility? Of(PlacementSnapshot snapshot, bool freeRoomOnly)
    {
        var workers = snapshot.Workers.Select(w => w.Worker)
            .Where(w => w.IsReady && (!freeRoomOnly || w.RunningJobs < w.Registration.MaxConcurrentJobs))
            .ToList();
        if (workers.Count == 0)
            return null;
        var room = workers.Select(w => freeRoomOnly ? w.Free : w.Registration.Capacity).ToList();
        return new PendingEligibility(
            room.Max(r => r.Cpus), room.Max(r => r.MemoryMb), room.Max(r => r.Gpus),
            workers.SelectMany(w => w.Registration.Services).Distinct().Order(StringComparer.Ordinal).ToArray(),
            workers.SelectMany(w => w.Registration.Services.SelectMany(s => w.Registration.Languages.Select(l => $"{s}{Separator}{l}")))
                .Distinct().Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>Changes when the workers that could ever take some job change: then every waiting job is looked at again.</summary>
    public string Signature => $"{Cpus}/{MemoryMb}/{Gpus}/{string.Join(',', Services)}/{string.Join(',', Pairs)}";
}

using Bus.Reconciler.Jobs;
using Quartz;
using Bus.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Reconciler.Sweeps;

/// <summary>
/// Finds attempts placed but never started: Allocated for longer than <see cref="ReconcilerOptions.StartLease"/>,
/// as when a RunJob is lost after the scheduler committed the placement. Each is published as
/// <see cref="JobAttemptLost"/>: the saga releases its reservation and places a new attempt. It cannot run twice:
/// a worker runs an attempt only while the attempt holds its reservation, and the saga also sends the old
/// worker a StopJob in case it had started it after all.
/// </summary>
public sealed class LeaseSweep(NpgsqlDataSource dataSource, IBus bus, IOptions<ReconcilerOptions> options, TimeProvider clock, ILogger<LeaseSweep> logger) : IReconcilerTask
{
    public static JobKey Key { get; } = new("lease-sweep", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    /// <summary>Returns the attempts given up.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var lease = options.Value.StartLease;
        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand(
            "SELECT job_id, attempt, worker_id FROM jobs WHERE current_state = 'Allocated' AND allocated_at < $1");
        command.Parameters.AddWithValue(now - lease);
        var expired = new List<(Guid JobId, int Attempt, string WorkerId)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                expired.Add((reader.GetGuid(0), reader.GetInt32(1), reader.GetString(2)));

        foreach (var (jobId, attempt, workerId) in expired)
            await bus.Publish(new JobAttemptLost(jobId, attempt, workerId, now,
                $"worker {workerId} did not start attempt {attempt} within {lease.TotalSeconds:0} s"), cancellationToken);
        if (expired.Count > 0)
            logger.LogWarning("{Count} attempts were not started within {Lease}; placing them again", expired.Count, lease);
        return expired.Count;
    }
}

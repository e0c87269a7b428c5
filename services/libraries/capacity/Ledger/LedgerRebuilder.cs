using Bus.Contracts;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Bus.Capacity.Ledger;

/// <summary>
/// Rebuilds one worker's Redis counters from its unreleased allocation rows and gives them a new epoch, under the
/// worker's row lock. Needed when Redis has lost them (it restarted empty: a real worker's heartbeat is then
/// refused until this has run) or when reservations were taken on PostgreSQL alone while Redis was down (the epoch
/// in <c>workers</c> moved on, so allocations recorded through the old counters are refused). While the lock is
/// held no allocation of the worker can be recorded, so none slips between the read and the new epoch.
/// </summary>
public sealed class LedgerRebuilder(NpgsqlDataSource dataSource, RedisCounters counters, ILogger<LedgerRebuilder> logger)
{
    /// <summary>
    /// Rebuilds the worker's counters. False when the worker has no row in <c>workers</c> (nothing to rebuild from).
    /// With <paramref name="onlyIfBehind"/>, counters that already carry the worker's current epoch are left as they
    /// are: another scheduler rebuilt them since the caller's record was refused. Rebuilding them again would refuse
    /// that scheduler's reservations in flight, whose rebuilds would refuse this one's, on and on.
    /// </summary>
    public async Task<bool> Rebuild(string workerId, CancellationToken cancellationToken = default, bool onlyIfBehind = false)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using (var locked = new NpgsqlCommand("SELECT redis_epoch FROM workers WHERE worker_id = $1 FOR UPDATE", connection, transaction))
        {
            locked.Parameters.AddWithValue(workerId);
            await using var reader = await locked.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
                return false;
            var current = reader.IsDBNull(0) ? (long?)null : reader.GetInt64(0);
            // Under the lock no rebuild or database reservation can move either epoch, so equal means current.
            if (onlyIfBehind && current is not null && current == await counters.Epoch(workerId))
                return true;
        }

        long epoch;
        // A fresh number from the sequence, never current + 1: if this transaction does not commit, the epoch it wrote
        // to Redis must never become current for other rows (a sequence does not hand a number out twice).
        await using (var next = new NpgsqlCommand("SELECT nextval('redis_epoch_seq')", connection, transaction))
            epoch = (long)(await next.ExecuteScalarAsync(cancellationToken))!;

        var truth = new List<Reservation>();
        await using (var rows = new NpgsqlCommand("""
            SELECT job_id, attempt, cpus, memory_mb, gpus FROM resource_allocations WHERE worker_id = $1 AND NOT released
            """, connection, transaction))
        {
            rows.Parameters.AddWithValue(workerId);
            await using var reader = await rows.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                truth.Add(new Reservation(reader.GetGuid(0), reader.GetInt32(1),
                    new ResourceVector(reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4))));
        }

        // Redis first: if the commit then fails, Redis carries an epoch the database never reaches, so the next record
        // is refused and the worker is rebuilt again.
        var wrong = await counters.Rebuild(workerId, truth, epoch);
        await using (var stamp = new NpgsqlCommand("UPDATE workers SET redis_epoch = $2 WHERE worker_id = $1", connection, transaction))
        {
            stamp.Parameters.AddWithValue(workerId);
            stamp.Parameters.AddWithValue(epoch);
            await stamp.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Rebuilt the Redis counters of worker {WorkerId} from {Count} allocation rows (epoch {Epoch}, {Wrong} counters were wrong)",
            workerId, truth.Count, epoch, wrong);
        return true;
    }
}

using Bus.Persistence.Jobs;
using Npgsql;

namespace Bus.Gateway.Sagas;

/// <summary>
/// Reads saga rows for inspection by an operator: every tenant's, and every column as stored, so the view keeps
/// up with schema changes without code changes here.
/// </summary>
public sealed class SagaStore(NpgsqlDataSource dataSource, JobQueries jobs)
{
    /// <summary>The saga row of <paramref name="jobId"/>, or null when the scheduler has no row for it.</summary>
    public async Task<SagaView?> Find(Guid jobId, CancellationToken cancellationToken) =>
        await jobs.RowOf(jobId, cancellationToken) is { } columns
            ? new SagaView(jobId, columns, await History(jobId, cancellationToken))
            : null;

    /// <summary>Every committed transition of one job, in the order the saga made them (0009_job_transitions.sql).</summary>
    async Task<List<SagaTransition>> History(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT from_state, to_state, event, attempt, worker_id, reason, exit_code, error, message_id, at
            FROM job_transitions WHERE job_id = $1 ORDER BY xid, id
            """);
        command.Parameters.AddWithValue(jobId);
        var history = new List<SagaTransition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            history.Add(new SagaTransition(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetGuid(8), reader.GetFieldValue<DateTimeOffset>(9)));
        return history;
    }
}

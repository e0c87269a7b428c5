using Npgsql;

namespace Bus.Gateway.Events;

/// <summary>
/// Reads <c>job_transitions</c>, which the scheduler writes with each saga row. Reads stop at the oldest transaction
/// still running, so everything returned is final and nothing can later commit before it (0009_job_transitions.sql).
/// </summary>
public sealed class JobEventStore(NpgsqlDataSource dataSource)
{
    const string Horizon = "pg_snapshot_xmin(pg_current_snapshot())";

    /// <summary>Where a reader that wants only what comes next starts: everything older is final already.</summary>
    public async Task<EventCursor> Now(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Horizon}::text");
        return new EventCursor(ulong.Parse((string)(await command.ExecuteScalarAsync(cancellationToken))!), 0);
    }

    /// <summary>Events after <paramref name="after"/>, oldest first; of one tenant, or one job, when given.</summary>
    public async Task<List<StoredJobEvent>> After(EventCursor after, string? tenant, Guid? jobId, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT xid::text, id, tenant, job_id, to_state, from_state, event, attempt, worker_id, reason, exit_code, error, at
            FROM job_transitions
            WHERE (xid, id) > ($1::text::xid8, $2) AND xid < {Horizon}
              AND ($3::text IS NULL OR tenant = $3) AND ($4::uuid IS NULL OR job_id = $4)
            ORDER BY xid, id
            LIMIT $5
            """);
        command.Parameters.AddWithValue(after.Xid.ToString());
        command.Parameters.AddWithValue(after.Id);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)tenant ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)jobId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        command.Parameters.AddWithValue(limit);

        var events = new List<StoredJobEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            events.Add(new StoredJobEvent(
                new EventCursor(ulong.Parse(reader.GetString(0)), reader.GetInt64(1)),
                reader.GetString(2),
                new JobEvent(
                    reader.GetGuid(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetInt32(7),
                    reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetString(9),
                    reader.IsDBNull(10) ? null : reader.GetInt32(10), reader.IsDBNull(11) ? null : reader.GetString(11),
                    reader.GetFieldValue<DateTimeOffset>(12))));
        return events;
    }
}

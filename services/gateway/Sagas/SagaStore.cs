using Npgsql;

namespace Bus.Gateway.Sagas;

/// <summary>
/// Reads saga rows for inspection by an operator: every tenant's, and every column as stored, so the view keeps
/// up with schema changes without code changes here.
/// </summary>
public sealed class SagaStore(NpgsqlDataSource dataSource)
{
    /// <summary>The timestamp columns, with the label each gets in the history.</summary>
    static readonly (string Column, string Label)[] Moments =
    [
        ("submitted_at", "Pending"),
        ("allocated_at", "Allocated"),
        ("started_at", "Running"),
        ("cancel_requested_at", "CancelRequested"),
        ("finished_at", "Finished"),
        ("updated_at", "LastUpdated"),
    ];

    /// <summary>The saga row of <paramref name="jobId"/>, or null when the scheduler has no row for it.</summary>
    public async Task<SagaView?> Find(Guid jobId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT * FROM jobs WHERE job_id = $1");
        command.Parameters.AddWithValue(jobId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
            return null;

        var columns = new Dictionary<string, object?>();
        for (var i = 0; i < reader.FieldCount; i++)
            columns[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        return new SagaView(jobId, columns, History(columns));
    }

    /// <summary>
    /// There is no transition log yet, so the history is rebuilt from the row's own timestamps. It therefore shows
    /// only the current attempt (a retry overwrites allocated_at and started_at) and no intermediate updates; a
    /// table of transitions written by the saga is future work.
    /// </summary>
    static List<SagaMoment> History(Dictionary<string, object?> columns) =>
        Moments
            .Where(m => columns.GetValueOrDefault(m.Column) is DateTime)
            .Select(m => new SagaMoment(
                m.Column == "finished_at" ? columns.GetValueOrDefault("current_state") as string ?? m.Label : m.Label,
                m.Column,
                new DateTimeOffset((DateTime)columns[m.Column]!)))
            .OrderBy(m => m.At) // stable: equal times keep the lifecycle order above
            .ToList();
}

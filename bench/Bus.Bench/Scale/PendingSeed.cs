using Bus.Contracts;
using Bus.Persistence.Jobs;
using Npgsql;
using static Bus.Persistence.Jobs.JobColumns;

namespace Bus.Bench.Scale;

/// <summary>
/// A backlog of pending jobs that no worker can take, written straight into the saga's table as the saga itself
/// would have left them: they ask for <see cref="Cpus"/> CPUs, more than any worker has, so they stay Pending for the
/// whole run and every pass of the pending queue has to read past them. They are an hour older than any probe, with
/// the probes' priority, so they are the head of the queue, as a real backlog is.
/// </summary>
public sealed class PendingSeed(NpgsqlDataSource database)
{
    public const int Cpus = 4096;
    const string Tenant = "scale-seed";

    int _count;

    /// <summary>Adds jobs until <paramref name="total"/> are pending, then refreshes the planner's statistics.</summary>
    public async Task GrowTo(int total)
    {
        if (total <= _count)
            return;
        await using (var insert = database.CreateCommand($$"""
            INSERT INTO {{Table}} ({{JobId}}, {{CurrentState}}, {{JobColumns.Version}}, {{JobColumns.Tenant}}, {{RequestId}}, {{Service}}, {{Command}},
                              {{JobColumns.Cpus}}, {{MemoryMb}}, {{Gpus}}, {{Priority}}, {{TimeoutSeconds}}, {{MaxAttempts}}, {{Attempt}},
                              {{SubmittedAt}}, {{UpdatedAt}})
            SELECT gen_random_uuid(), '{{JobStates.Pending}}', 1, $1, 'seed-' || n, 'noop', '{}', $2, 0, 0,
                   50, 3600, 1, 1, now() - interval '1 hour' + n * interval '1 ms', now()
            FROM generate_series($3, $4) AS n
            """))
        {
            insert.CommandTimeout = 300;
            insert.Parameters.AddWithValue(Tenant);
            insert.Parameters.AddWithValue(Cpus);
            insert.Parameters.AddWithValue(_count);
            insert.Parameters.AddWithValue(total - 1);
            await insert.ExecuteNonQueryAsync();
        }
        _count = total;
        await Execute($"ANALYZE {Table}");
    }

    /// <summary>Removes them all, and vacuums, so the next round starts from a table as small as the first.</summary>
    public async Task Clear()
    {
        await using (var delete = database.CreateCommand($"DELETE FROM {Table} WHERE {JobColumns.Tenant} = $1"))
        {
            delete.CommandTimeout = 300;
            delete.Parameters.AddWithValue(Tenant);
            await delete.ExecuteNonQueryAsync();
        }
        _count = 0;
        await Execute($"VACUUM ANALYZE {Table}");
    }

    async Task Execute(string sql)
    {
        await using var command = database.CreateCommand(sql);
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync();
    }
}

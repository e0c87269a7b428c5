using Bus.Persistence.Schema;
using Npgsql;
using NpgsqlTypes;

namespace Bus.Bench.Capacity;

/// <summary>One index setup: the query's latency, and the plan PostgreSQL chose for it.</summary>
public sealed record SqlVariant(string Name, LatencySummary Latency, IReadOnlyList<string> Plan);

public sealed record SqlResults(string ServerVersion, int Rows, int Unreleased, TimeSpan LoadTime, IReadOnlyList<SqlVariant> Variants,
    PairRun FallbackLoaded, PairRun FallbackSingle);

/// <summary>
/// The original design's way of knowing what is allocated: a SUM over every allocation row ever written. Runs in a
/// throwaway database with the project's real schema: without an index, with a partial index on the unreleased
/// rows that does not carry their sizes (the project's first one, migration 0001), and with the project's index as
/// migrated now, which carries them (migration 0004).
/// </summary>
public sealed class SqlSumBenchmark(string adminConnectionString, BenchOptions options)
{
    const string SumQuery = "SELECT SUM(cpus) FROM resource_allocations WHERE NOT released";
    const string ProjectIndexName = "resource_allocations_unreleased_sizes";
    // Migration 0001's index: the same predicate, but the sizes are only in the table.
    const string PartialIndex =
        "CREATE INDEX resource_allocations_unreleased ON resource_allocations (worker_id) WHERE NOT released";

    public async Task<SqlResults> Run()
    {
        var database = $"bus_bench_{Guid.NewGuid():N}"[..26];
        await using var admin = NpgsqlDataSource.Create(adminConnectionString);
        await Execute(admin, $"CREATE DATABASE {database}");
        try
        {
            var connectionString = new NpgsqlConnectionStringBuilder(adminConnectionString) { Database = database }.ConnectionString;
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            // The schema exactly as every service migrates it, so the table and its index are the real ones.
            await new SchemaMigrator(dataSource).Migrate();
            await using var connection = await dataSource.OpenConnectionAsync();

            // Keep the index as migrated, to re-create it verbatim after the "no index" runs.
            var projectIndex = (string)(await Scalar(connection, $"SELECT indexdef FROM pg_indexes WHERE indexname = '{ProjectIndexName}'")
                ?? throw new InvalidOperationException($"the migrations no longer create {ProjectIndexName}"));
            await Execute(connection, $"DROP INDEX {ProjectIndexName}");

            var started = TimeProvider.System.GetTimestamp();
            var (expectedSum, unreleased) = await Load(connection);
            var loadTime = TimeProvider.System.GetElapsedTime(started);
            // Statistics for the planner, and the visibility map an index-only scan needs.
            await Execute(connection, "VACUUM ANALYZE resource_allocations");

            var variants = new List<SqlVariant> { await Measure(connection, "no index", expectedSum) };
            await Execute(connection, PartialIndex);
            variants.Add(await Measure(connection, "(worker_id) WHERE NOT released", expectedSum));
            await Execute(connection, "DROP INDEX resource_allocations_unreleased");
            await Execute(connection, projectIndex);
            variants.Add(await Measure(connection, "project's: (worker_id) INCLUDE (sizes) WHERE NOT released", expectedSum));

            // With the project's index back, as the services run: the fallback ledger over the same history.
            var (fallbackLoaded, fallbackSingle) = await new DatabaseLedgerBenchmark(dataSource, options).Run();
            return new SqlResults(connection.PostgreSqlVersion.ToString(), options.Rows, unreleased, loadTime, variants,
                fallbackLoaded, fallbackSingle);
        }
        finally
        {
            // FORCE: our own pooled connections may still be open.
            await Execute(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    /// <summary>
    /// Binary COPY of a history like the original design's: 50 workers, unreleased rows scattered at random (with a fixed seed),
    /// which is the hard case for an index, since each one may sit on its own heap page.
    /// </summary>
    async Task<(long Sum, int Unreleased)> Load(NpgsqlConnection connection)
    {
        var random = new Random(42);
        var start = DateTime.UtcNow.AddDays(-30);
        long sum = 0;
        var unreleased = 0;
        await using var writer = await connection.BeginBinaryImportAsync(
            "COPY resource_allocations (job_id, attempt, worker_id, cpus, memory_mb, gpus, allocated_at, released, released_at, process_id) " +
            "FROM STDIN (FORMAT BINARY)");
        for (var i = 0; i < options.Rows; i++)
        {
            var cpus = random.Next(1, 9);
            var allocatedAt = start.AddSeconds(i * 5.0);
            var released = random.NextDouble() >= options.Unreleased;
            if (!released)
            {
                sum += cpus;
                unreleased++;
            }
            await writer.StartRowAsync();
            await writer.WriteAsync(Guid.NewGuid(), NpgsqlDbType.Uuid);
            await writer.WriteAsync(1, NpgsqlDbType.Integer);
            await writer.WriteAsync($"worker-{i % 50:D2}", NpgsqlDbType.Text);
            await writer.WriteAsync(cpus, NpgsqlDbType.Integer);
            await writer.WriteAsync(cpus * 1024, NpgsqlDbType.Integer);
            await writer.WriteAsync(0, NpgsqlDbType.Integer);
            await writer.WriteAsync(allocatedAt, NpgsqlDbType.TimestampTz);
            await writer.WriteAsync(released, NpgsqlDbType.Boolean);
            if (released)
                await writer.WriteAsync(allocatedAt.AddMinutes(random.Next(1, 120)), NpgsqlDbType.TimestampTz);
            else
                await writer.WriteNullAsync();
            await writer.WriteAsync(random.Next(1_000, 4_000_000), NpgsqlDbType.Integer);
        }
        await writer.CompleteAsync();
        return (sum, unreleased);
    }

    /// <summary>Warm-up runs, then timed runs of the prepared query (its best case), each answer checked.</summary>
    async Task<SqlVariant> Measure(NpgsqlConnection connection, string name, long expectedSum)
    {
        var plan = new List<string>();
        await using (var explain = new NpgsqlCommand($"EXPLAIN (ANALYZE, BUFFERS) {SumQuery}", connection))
        await using (var reader = await explain.ExecuteReaderAsync())
            while (await reader.ReadAsync())
                plan.Add(reader.GetString(0));

        await using var query = new NpgsqlCommand(SumQuery, connection);
        await query.PrepareAsync();
        async Task Sum()
        {
            var sum = (long)(await query.ExecuteScalarAsync())!;
            if (sum != expectedSum)
                throw new InvalidOperationException($"SUM returned {sum}, expected {expectedSum}");
        }

        for (var i = 0; i < Math.Max(20, options.Runs / 5); i++)
            await Sum();
        return new SqlVariant(name, await Percentiles.Time(options.Runs, Sum), plan);
    }

    static async Task Execute(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    static async Task<object?> Scalar(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}

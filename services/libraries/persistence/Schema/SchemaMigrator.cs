using System.Reflection;
using Npgsql;

namespace Bus.Persistence.Schema;

/// <summary>
/// Applies the SQL files in <c>Schema/Migrations</c> in name order, each once, recorded in <c>schema_migrations</c>.
/// Plain SQL keeps the schema reviewable in one read. The scheduler applies them at start and every other service waits
/// for them (<see cref="DatabaseExtensions.AppliesSchemaMigrations"/>); tests and benchmarks that set up a database call
/// <see cref="Migrate"/> themselves. An advisory lock makes concurrent runs take turns.
/// </summary>
public sealed class SchemaMigrator(NpgsqlDataSource dataSource)
{
    // Any constant works; it only has to be the same in every process.
    const long MigrationLockKey = 0x6275735F6D6967; // "bus_mig"

    public async Task Migrate(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Execute(connection, $"SELECT pg_advisory_xact_lock({MigrationLockKey})", cancellationToken);
        await Execute(connection, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, cancellationToken);

        var applied = new HashSet<string>();
        await using (var read = new NpgsqlCommand("SELECT name FROM schema_migrations", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                applied.Add(reader.GetString(0));

        foreach (var (name, sql) in Scripts().Where(s => !applied.Contains(s.Name)))
        {
            await Execute(connection, sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_migrations (name) VALUES ($1)", connection);
            record.Parameters.AddWithValue(name);
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Whether every migration this build carries is applied; false while the database has no schema at all.</summary>
    public async Task<bool> IsApplied(CancellationToken cancellationToken = default)
    {
        var names = Scripts().Select(s => s.Name).ToArray();
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations WHERE name = ANY($1)");
        command.Parameters.AddWithValue(names);
        try
        {
            return (long)(await command.ExecuteScalarAsync(cancellationToken))! == names.Length;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return false;
        }
    }

    static IEnumerable<(string Name, string Sql)> Scripts()
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        const string marker = ".Migrations.";
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.EndsWith(".sql")).Order())
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            yield return (resource[(resource.IndexOf(marker, StringComparison.Ordinal) + marker.Length)..], reader.ReadToEnd());
        }
    }

    static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

using Bus.Persistence.Schema;
using Npgsql;

namespace Bus.Testing;

/// <summary>A fresh PostgreSQL database with the project's schema, dropped afterwards, so tests never share rows.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    readonly string _name = $"bus_test_{Guid.NewGuid():N}";

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    TestDatabase()
    {
        ConnectionString = new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres) { Database = _name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public static async Task<TestDatabase> Create()
    {
        var database = await CreateEmpty();
        await new SchemaMigrator(database.DataSource).Migrate();
        return database;
    }

    /// <summary>A fresh database with no schema at all, as a new installation's is before its first scheduler starts.</summary>
    public static async Task<TestDatabase> CreateEmpty()
    {
        var database = new TestDatabase();
        await using (var admin = NpgsqlDataSource.Create(TestEnvironment.Postgres))
        await using (var create = admin.CreateCommand($"CREATE DATABASE {database._name}"))
            await create.ExecuteNonQueryAsync();
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var admin = NpgsqlDataSource.Create(TestEnvironment.Postgres);
        await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)");
        await drop.ExecuteNonQueryAsync();
    }
}

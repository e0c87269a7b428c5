using Bus.Hosting.Resilience;
using Bus.Persistence.Jobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Bus.Persistence.Schema;

public static class DatabaseExtensions
{
    /// <summary>
    /// Adds the PostgreSQL data source (from <c>ConnectionStrings:Postgres</c>),
    /// the queries over the jobs table, and a start-up step that holds back every other hosted
    /// service until the schema is there: it waits for the schema's owner to apply it, or applies it in the owner
    /// (<see cref="AppliesSchemaMigrations"/>).
    /// </summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(WithPoolDefaults(connectionString)).Build());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SchemaMigrator>();
        builder.Services.AddSingleton<JobQueries>();
        builder.Services.TryAddSingleton(SchemaRole.Awaits);
        // Registered first among hosted services that need it, so the schema exists before they start.
        builder.Services.AddHostedService<SchemaAtStart>();
        return builder;
    }

    /// <summary>
    /// The connection string with two pool settings defaulted, unless it sets them itself:
    /// <list type="bullet">
    /// <item><c>No Reset On Close=true</c>. By default Npgsql runs <c>DISCARD ALL</c> on a pooled connection before its
    /// next use: measured, 18 of the 44 statements per job, and it throws away prepared statements. No code here leaves
    /// session state behind on a pooled connection (the reconciler's advisory lock is unlocked explicitly, the event
    /// feed unlistens), so there is nothing to reset.</item>
    /// <item><c>Max Auto Prepare=64</c>: the statements a service runs most are prepared on each connection after a few
    /// uses, so PostgreSQL parses and plans them once per connection instead of on every execution.</item>
    /// </list>
    /// </summary>
    public static string WithPoolDefaults(string connectionString)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var pool = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("No Reset On Close") && !given.ContainsKey("NoResetOnClose"))
            pool.NoResetOnClose = true;
        if (!given.ContainsKey("Max Auto Prepare") && !given.ContainsKey("MaxAutoPrepare"))
            pool.MaxAutoPrepare = 64;
        return pool.ConnectionString;
    }

    /// <summary>
    /// Makes this service the one that applies the schema migrations at start. One owner, the scheduler (whose saga
    /// owns the jobs table), so a migration never runs from a service that does not own what it changes; every other
    /// service waits until the schema its build expects is applied, so the services still start in any order.
    /// </summary>
    public static IHostApplicationBuilder AppliesSchemaMigrations(this IHostApplicationBuilder builder)
    {
        builder.Services.Replace(ServiceDescriptor.Singleton(SchemaRole.Applies));
        return builder;
    }

    /// <summary>Whether this service applies the schema at start or waits for it.</summary>
    sealed record SchemaRole(bool AppliesMigrations)
    {
        public static SchemaRole Applies { get; } = new(true);
        public static SchemaRole Awaits { get; } = new(false);
    }

    /// <summary>Waits for PostgreSQL if it is down at start, so a service started before the database comes up by itself.</summary>
    sealed class SchemaAtStart(SchemaMigrator migrator, SchemaRole role, TimeProvider clock, ILogger<SchemaMigrator> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => role.AppliesMigrations
            ? UntilReachable.Run("Applying the schema", migrator.Migrate, logger, clock, cancellationToken)
            : UntilReachable.Run("Waiting for the schema", WaitForOwner, logger, clock, cancellationToken);

        async Task WaitForOwner(CancellationToken cancellationToken)
        {
            for (var waited = false; !await migrator.IsApplied(cancellationToken); waited = true)
            {
                if (!waited)
                    logger.LogWarning("The schema this build expects is not applied yet; waiting for the scheduler to apply it");
                await Task.Delay(SchemaPollInterval, clock, cancellationToken);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    // Only a first start on an empty database, or an upgrade, waits: short enough not to slow it down noticeably.
    static readonly TimeSpan SchemaPollInterval = TimeSpan.FromMilliseconds(500);
}

using Bus.Infrastructure.Resilience;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Bus.Infrastructure.Data;

public static class DatabaseExtensions
{
    /// <summary>
    /// Adds the PostgreSQL data source (from <c>ConnectionStrings:Postgres</c>), the allocation store, the workers table, and a
    /// start-up step that applies the schema before anything else touches the database.
    /// </summary>
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set.");
        builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString).Build());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<SchemaMigrator>();
        builder.Services.AddSingleton<AllocationStore>();
        builder.Services.AddSingleton<WorkerDirectory>();
        // Registered first among hosted services that need it, so the schema exists before they start.
        builder.Services.AddHostedService<MigrateOnStart>();
        return builder;
    }

    /// <summary>Waits for PostgreSQL if it is down at start, so a service started before the database comes up by itself.</summary>
    sealed class MigrateOnStart(SchemaMigrator migrator, TimeProvider clock, ILogger<SchemaMigrator> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            UntilReachable.Run("Applying the schema", migrator.Migrate, logger, clock, cancellationToken);
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

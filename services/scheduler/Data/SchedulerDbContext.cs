using System.Text.RegularExpressions;
using Bus.Scheduler.StateMachines;
using Microsoft.EntityFrameworkCore;

namespace Bus.Scheduler.Data;

/// <summary>The scheduler's view of the database: the job sagas. The schema itself is plain SQL (see SchemaMigrator).</summary>
public sealed partial class SchedulerDbContext(DbContextOptions<SchedulerDbContext> options) : DbContext(options)
{
    public DbSet<JobState> Jobs => Set<JobState>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new JobStateMap());

        // The SQL schema uses snake_case; name every column not named explicitly the same way.
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
            if (property.GetColumnName() == property.Name)
                property.SetColumnName(SnakeCase().Replace(property.Name, "$1_$2").ToLowerInvariant());
    }

    public override Task<int> SaveChangesAsync(CancellationToken cancellationToken = default)
    {
        // One place stamps every job write, so no state machine step can forget it.
        var now = DateTimeOffset.UtcNow;
        foreach (var entry in ChangeTracker.Entries<JobState>())
            if (entry.State is EntityState.Added or EntityState.Modified)
                entry.Entity.UpdatedAt = now;
        return base.SaveChangesAsync(cancellationToken);
    }

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex SnakeCase();
}

using System.Text.RegularExpressions;
using Bus.Scheduler.StateMachines;
using Microsoft.EntityFrameworkCore;

namespace Bus.Scheduler.Data;

/// <summary>The scheduler's view of the database: the job sagas. The schema itself is plain SQL (see SchemaMigrator).</summary>
public sealed partial class SchedulerDbContext(DbContextOptions<SchedulerDbContext> options) : DbContext(options)
{
    public DbSet<JobState> Jobs => Set<JobState>();
    public DbSet<JobTransition> Transitions => Set<JobTransition>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfiguration(new JobStateMap());
        modelBuilder.Entity<JobTransition>(entity =>
        {
            entity.ToTable("job_transitions");
            entity.Property(x => x.Id).UseIdentityAlwaysColumn();
            entity.Ignore(x => x.EndsAttempt);
            entity.Ignore(x => x.ToPending);
        });

        // The SQL schema uses snake_case; name every column not named explicitly the same way.
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
            if (property.GetColumnName() == property.Name)
                property.SetColumnName(SnakeCase().Replace(property.Name, "$1_$2").ToLowerInvariant());
    }

    public override Task<int> SaveChangesAsync(CancellationToken cancellationToken = default)
    {
        // One place stamps every job write and adds its transitions to the same transaction, so no state machine
        // step can forget either.
        var now = DateTimeOffset.UtcNow;
        foreach (var entry in ChangeTracker.Entries<JobState>().ToList())
            if (entry.State is EntityState.Added or EntityState.Modified)
            {
                entry.Entity.UpdatedAt = now;
                if (entry.Entity.NewTransitions is [.., var last])
                    last.Describe(entry.Entity);
                Transitions.AddRange(entry.Entity.NewTransitions);
                entry.Entity.NewTransitions.Clear();
            }
        return SaveOrForgetTransitions(cancellationToken);
    }

    /// <summary>A failed write (a lost race, say) takes its transitions with it: the retry reloads the saga and
    /// records them again, so none may linger in this context to be written twice.</summary>
    async Task<int> SaveOrForgetTransitions(CancellationToken cancellationToken)
    {
        try
        {
            return await base.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            foreach (var entry in ChangeTracker.Entries<JobTransition>().Where(e => e.State == EntityState.Added).ToList())
                entry.State = EntityState.Detached;
            throw;
        }
    }

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex SnakeCase();
}

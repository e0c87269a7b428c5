using System.Text.RegularExpressions;
using Bus.Capacity.Ledger;
using Bus.Scheduler.StateMachines;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

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
        // One place stamps every job write and adds its transitions and its allocation releases to the same
        // transaction, so no state machine step can forget any of them.
        var now = DateTimeOffset.UtcNow;
        var releases = new List<AllocationRelease>();
        foreach (var entry in ChangeTracker.Entries<JobState>().ToList())
            if (entry.State is EntityState.Added or EntityState.Modified)
            {
                entry.Entity.UpdatedAt = now;
                if (entry.Entity.NewTransitions is [.., var last])
                    last.Describe(entry.Entity);
                Transitions.AddRange(entry.Entity.NewTransitions);
                entry.Entity.NewTransitions.Clear();
                releases.AddRange(entry.Entity.NewReleases);
                entry.Entity.NewReleases.Clear();
            }
        return releases.Count == 0 ? SaveOrForgetTransitions(cancellationToken) : SaveWithReleases(releases, cancellationToken);
    }

    /// <summary>
    /// The saga row, its transitions and the allocation rows it released, in one transaction: one commit where the
    /// release on its own took a second. Should it fail, the rows stay held with the saga unchanged, and the retry
    /// releases them again, or the leftovers release does once the job is over.
    /// </summary>
    async Task<int> SaveWithReleases(IReadOnlyList<AllocationRelease> releases, CancellationToken cancellationToken)
    {
        int written;
        // Inside a transaction of its own, SaveChanges would wrap itself in a savepoint: two round trips more, for a
        // rollback point nothing uses (a failed write rolls the whole transaction back).
        var savepoints = Database.AutoSavepointsEnabled;
        Database.AutoSavepointsEnabled = false;
        try
        {
            await using var transaction = await Database.BeginTransactionAsync(cancellationToken);
            await DatabaseLedger.Release((NpgsqlConnection)Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(),
                releases, cancellationToken);
            // The context takes the write as done only once it has committed.
            written = await base.SaveChangesAsync(acceptAllChangesOnSuccess: false, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            ForgetTransitions();
            throw;
        }
        finally
        {
            Database.AutoSavepointsEnabled = savepoints;
        }
        ChangeTracker.AcceptAllChanges();
        return written;
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
            ForgetTransitions();
            throw;
        }
    }

    void ForgetTransitions()
    {
        foreach (var entry in ChangeTracker.Entries<JobTransition>().Where(e => e.State == EntityState.Added).ToList())
            entry.State = EntityState.Detached;
    }

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex SnakeCase();
}

using Bus.Persistence.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// Maps <see cref="JobState"/> onto the <c>jobs</c> table of <c>0001_initial.sql</c>: the key by name, every other
/// column by the context's snake_case convention. The names must be those of <see cref="JobColumns"/>, which every other
/// reader of the table uses; a unit test holds the two together.
/// </summary>
public sealed class JobStateMap : IEntityTypeConfiguration<JobState>
{
    public void Configure(EntityTypeBuilder<JobState> entity)
    {
        entity.ToTable(JobColumns.Table);
        entity.HasKey(x => x.CorrelationId);
        entity.Property(x => x.CorrelationId).HasColumnName(JobColumns.JobId).ValueGeneratedNever();
        entity.Property(x => x.Version).IsConcurrencyToken();
        entity.Property(x => x.PayloadJson).HasColumnType("jsonb");
        entity.Ignore(x => x.NewTransitions);
        entity.Ignore(x => x.NewReleases);
        entity.Property(x => x.EnvironmentJson).HasColumnType("jsonb");
        entity.Property(x => x.ResultJson).HasColumnType("jsonb");
        entity.Property(x => x.PendingReasonCode).HasConversion<string>();
    }
}

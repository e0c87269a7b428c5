using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Bus.Scheduler.StateMachines;

/// <summary>Maps <see cref="JobState"/> onto the <c>jobs</c> table of <c>0001_initial.sql</c>.</summary>
public sealed class JobStateMap : IEntityTypeConfiguration<JobState>
{
    public void Configure(EntityTypeBuilder<JobState> entity)
    {
        entity.ToTable("jobs");
        entity.HasKey(x => x.CorrelationId);
        entity.Property(x => x.CorrelationId).HasColumnName("job_id").ValueGeneratedNever();
        entity.Property(x => x.Version).IsConcurrencyToken();
        entity.Property(x => x.PayloadJson).HasColumnType("jsonb");
        entity.Ignore(x => x.NewTransitions);
        entity.Property(x => x.EnvironmentJson).HasColumnType("jsonb");
        entity.Property(x => x.ResultJson).HasColumnType("jsonb");
        entity.Property(x => x.PendingReasonCode).HasConversion<string>();
    }
}

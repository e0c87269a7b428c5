using Bus.Contracts;
using Bus.Persistence.Jobs;
using Bus.Scheduler.Data;
using Bus.Scheduler.StateMachines;
using Microsoft.EntityFrameworkCore;
using JobStateMachine = Bus.Scheduler.StateMachines.JobStateMachine;

namespace Bus.Scheduler.Tests;

/// <summary>
/// The jobs table is read by every service through <see cref="JobStates"/> and <see cref="JobColumns"/>, and written by
/// the saga through its state machine and EF mapping; these tests fail when the two sides stop naming the same things,
/// instead of another service breaking at run time.
/// </summary>
public sealed class JobsTableDeclarationTests
{
    [Fact]
    public void The_contract_states_are_the_state_machines_states_in_lifecycle_order()
    {
        var machine = new JobStateMachine();
        // MassTransit adds Initial and Final to the declared states; a job's row never holds either (the saga is
        // never finalized: a finished job keeps its row).
        var declared = machine.States.Select(s => s.Name)
            .Where(name => name != machine.Initial.Name && name != machine.Final.Name)
            .ToList();
        Assert.Equal(JobStates.All, declared);
    }

    [Fact]
    public void The_state_groups_cover_every_state_once()
    {
        Assert.Equal(JobStates.All.Order(), JobStates.Active.Concat(JobStates.Final).Order());
        Assert.Equal([JobStates.Pending], JobStates.Active.Except(JobStates.OnWorker));
        Assert.All(JobStates.Final, s => Assert.True(JobStates.IsFinal(s)));
        Assert.All(JobStates.Active, s => Assert.False(JobStates.IsFinal(s)));
    }

    [Fact]
    public void The_saga_maps_its_row_onto_exactly_the_declared_table_and_columns()
    {
        // Building the model needs no database: it is what EF would read and write.
        var options = new DbContextOptionsBuilder<SchedulerDbContext>().UseNpgsql("Host=unused").Options;
        using var context = new SchedulerDbContext(options);
        var entity = context.Model.FindEntityType(typeof(JobState))!;

        Assert.Equal(JobColumns.Table, entity.GetTableName());
        var mapped = entity.GetProperties().Select(p => p.GetColumnName()).Order().ToList();
        Assert.Equal(JobColumns.All.Order(), mapped);
        Assert.Equal(JobColumns.JobId, entity.FindPrimaryKey()!.Properties.Single().GetColumnName());
    }

    [Theory]
    [InlineData(nameof(JobState.CurrentState), JobColumns.CurrentState)]
    [InlineData(nameof(JobState.WorkerId), JobColumns.WorkerId)]
    [InlineData(nameof(JobState.PendingReasonCode), JobColumns.PendingReasonCode)]
    [InlineData(nameof(JobState.NotBefore), JobColumns.NotBefore)]
    [InlineData(nameof(JobState.ResultJson), JobColumns.ResultJson)]
    public void The_columns_other_services_filter_on_are_the_properties_the_saga_sets(string property, string column)
    {
        var options = new DbContextOptionsBuilder<SchedulerDbContext>().UseNpgsql("Host=unused").Options;
        using var context = new SchedulerDbContext(options);
        Assert.Equal(column, context.Model.FindEntityType(typeof(JobState))!.FindProperty(property)!.GetColumnName());
    }
}

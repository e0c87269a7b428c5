using Bus.Hosting.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Bus.Scheduler.StateMachines;

/// <summary>
/// The saga's endpoint: its queue name, how many messages it handles at once (<see cref="SchedulerOptions.SagaConcurrency"/>),
/// and the outbox that holds sends until the row is saved. The scheduler and the state machine's harness tests register
/// the machine with this definition, so both run the same endpoint.
/// </summary>
public sealed class JobStateDefinition : SagaDefinition<JobState>
{
    public JobStateDefinition(IOptions<SchedulerOptions> options)
    {
        Endpoint(e =>
        {
            e.Name = QueueNames.JobSaga;
            e.ConcurrentMessageLimit = options.Value.SagaConcurrency;
        });
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<JobState> sagaConfigurator,
        IRegistrationContext context)
    {
        // Version conflicts (ConcurrencyException) and outages are retried in memory by the bus-wide ride-through
        // policy (RideThrough); not delayed redelivery: Debian's RabbitMQ has no delayed-exchange plugin.
        // RunJob leaves only after the saga row that records the placement is saved.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}

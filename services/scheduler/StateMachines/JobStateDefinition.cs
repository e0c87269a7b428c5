using Bus.Infrastructure.Messaging;
using MassTransit;

namespace Bus.Scheduler.StateMachines;

/// <summary>The saga's endpoint: its queue name, retries, and the outbox that holds sends until the row is saved.</summary>
public sealed class JobStateDefinition : SagaDefinition<JobState>
{
    public JobStateDefinition()
    {
        Endpoint(e => e.Name = QueueNames.JobSaga);
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

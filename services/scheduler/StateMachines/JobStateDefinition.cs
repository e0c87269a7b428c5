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
        // Version conflicts (ConcurrencyException) and passing database or Redis faults are retried in memory.
        // Not delayed redelivery: Debian's RabbitMQ has no delayed-exchange plugin.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(10, 50, 100, 250, 500, 1000, 2000));
        // RunJob leaves only after the saga row that records the placement is saved.
        endpointConfigurator.UseInMemoryOutbox(context);
    }
}

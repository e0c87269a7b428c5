using Bus.Contracts;
using Bus.Scheduler.Placement;
using MassTransit;

namespace Bus.Scheduler.Consumers;

/// <summary>Capacity may have appeared: a job ended or a worker joined. Pokes the pending-job dispatcher.</summary>
public sealed class CapacityChangedConsumer(PendingJobDispatcher dispatcher) :
    IConsumer<JobCompleted>,
    IConsumer<JobFailed>,
    IConsumer<WorkerRegistered>
{
    public Task Consume(ConsumeContext<JobCompleted> context) => Poke();
    public Task Consume(ConsumeContext<JobFailed> context) => Poke();
    public Task Consume(ConsumeContext<WorkerRegistered> context) => Poke();

    Task Poke()
    {
        dispatcher.Poke();
        return Task.CompletedTask;
    }
}

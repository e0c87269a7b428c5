using Bus.Contracts;
using Bus.Scheduler.Placement;
using MassTransit;

namespace Bus.Scheduler.Consumers;

/// <summary>
/// Capacity may have appeared: a job ended or was stopped (its worker released first), or a worker joined. Pokes
/// the pending-job dispatcher. The endpoint's queue is shared by every scheduler instance, so each event wakes one.
/// </summary>
public sealed class CapacityChangedConsumer(PendingJobDispatcher dispatcher) :
    IConsumer<JobCompleted>,
    IConsumer<JobFailed>,
    IConsumer<JobStopped>,
    IConsumer<WorkerRegistered>
{
    public Task Consume(ConsumeContext<JobCompleted> context) => Poke();
    public Task Consume(ConsumeContext<JobFailed> context) => Poke();
    public Task Consume(ConsumeContext<JobStopped> context) => Poke();
    public Task Consume(ConsumeContext<WorkerRegistered> context) => Poke();

    Task Poke()
    {
        dispatcher.Poke();
        return Task.CompletedTask;
    }
}

using Bus.Contracts;
using Bus.Scheduler.Placement;
using MassTransit;

namespace Bus.Scheduler.Consumers;

/// <summary>
/// A worker joined, so capacity may have appeared: pokes the pending-job dispatcher. The endpoint's queue is shared by
/// every scheduler instance, so each registration wakes one. The end of an attempt pokes without a message, from the
/// saga's release (<see cref="ReleasePokesDispatcher"/>).
/// </summary>
public sealed class WorkerRegisteredConsumer(PendingJobDispatcher dispatcher) : IConsumer<WorkerRegistered>
{
    public Task Consume(ConsumeContext<WorkerRegistered> context)
    {
        dispatcher.Poke();
        return Task.CompletedTask;
    }
}

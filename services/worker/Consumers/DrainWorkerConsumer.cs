using Bus.Contracts;
using MassTransit;

namespace Bus.Worker.Consumers;

/// <summary>An admin's drain: stop taking jobs; the registrar unregisters once the running ones have ended.</summary>
public sealed class DrainWorkerConsumer(WorkerLifecycle lifecycle, ILogger<DrainWorkerConsumer> logger) : IConsumer<DrainWorker>
{
    public Task Consume(ConsumeContext<DrainWorker> context)
    {
        logger.LogInformation("Draining: no new jobs; unregistering once idle");
        lifecycle.StartDraining();
        return Task.CompletedTask;
    }
}

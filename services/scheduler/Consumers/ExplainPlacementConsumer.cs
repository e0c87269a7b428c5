using Bus.Contracts;
using Bus.Scheduler.Placement;
using MassTransit;

namespace Bus.Scheduler.Consumers;

/// <summary>
/// Answers a gateway's <see cref="ExplainPlacement"/> with <see cref="PlacementExplained"/>. It runs here, in the
/// scheduler, rather than in the gateway reading Redis itself, because only here are the snapshot and selection the
/// ones placement uses: the same <see cref="PlacementSnapshots"/> instance (pools from this service's configuration,
/// unavailable reports, the capacity hold, the PostgreSQL fallback while Redis is down) and the same
/// <see cref="PlacementEngine"/> path with its affinity lookup. A copy in the gateway would be a second
/// implementation that could drift. Nothing is stored or reserved; the job id is a fresh one no job has.
/// </summary>
public sealed class ExplainPlacementConsumer(PlacementEngine engine) : IConsumer<ExplainPlacement>
{
    public async Task Consume(ConsumeContext<ExplainPlacement> context)
    {
        var m = context.Message;
        var request = new PlacementRequest(NewId.NextGuid(), 1, m.Service, m.Resources, m.Constraints, m.Tenant, m.Priority, m.SubmittedAt);
        await context.RespondAsync(await engine.Explain(request));
    }
}

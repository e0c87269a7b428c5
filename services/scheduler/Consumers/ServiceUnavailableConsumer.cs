using Bus.Capacity.Redis;
using Bus.Contracts;
using Bus.Hosting.Options;
using Bus.Scheduler.Placement;
using MassTransit;

namespace Bus.Scheduler.Consumers;

/// <summary>
/// Records a worker's <see cref="ServiceUnavailable"/> report, so placement skips that worker for that service
/// until <see cref="PlacementOptions.UnavailableTtl"/> lapses. Built to be cheap under a storm of reports: a report
/// inside a window this instance already knows of is dropped in memory; otherwise one Lua call does <c>SET NX PX</c>,
/// and only the report that opens a window writes the index placement's snapshot reads. Nothing here touches the
/// saga, PostgreSQL or the placement path, and the consumer has its own queue.
/// </summary>
public sealed class ServiceUnavailableConsumer(
    ServiceAvailability availability,
    RedisOutagePolicy outage,
    LastKnownGood<PlacementOptions> options,
    ILogger<ServiceUnavailableConsumer> logger) : IConsumer<ServiceUnavailable>
{
    const int MaxLength = 256;

    public async Task Consume(ConsumeContext<ServiceUnavailable> context)
    {
        var report = context.Message;
        if (string.IsNullOrWhiteSpace(report.WorkerId) || string.IsNullOrWhiteSpace(report.Service)
            || report.WorkerId.Length > MaxLength || report.Service.Length > MaxLength)
            return; // not a report anyone could act on

        var reason = report.Reason.Length > MaxLength ? report.Reason[..MaxLength] : report.Reason;
        // The in-memory debounce lives in ServiceAvailability (a singleton), so the report-storm benchmark drives it too.
        // Reports live only in Redis, and are advisory: while it is down they are dropped, not retried. The worker
        // still hands the job back, so it is placed again (possibly on the same worker, which reports again).
        var reported = await outage.Run(async () => ((ReportOutcome, DateTimeOffset)?)
            await availability.Report(report.WorkerId, report.Service, reason, options.CurrentValue.UnavailableTtl), onOutage: ((ReportOutcome, DateTimeOffset)?)null);
        if (reported is null)
        {
            logger.LogDebug("Service-unavailable report of {WorkerId} for {Service} dropped: Redis is down", report.WorkerId, report.Service);
            return;
        }
        var (outcome, windowEnds) = reported.Value;
        if (outcome == ReportOutcome.Recorded)
            logger.LogInformation("Worker {WorkerId} reported service {Service} unavailable ({Reason}); skipping it for that service until {Until:HH:mm:ss} UTC",
                report.WorkerId, report.Service, reason, windowEnds);
    }
}

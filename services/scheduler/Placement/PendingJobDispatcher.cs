using Bus.Contracts;
using Bus.Infrastructure.Messaging;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Offers pending jobs to placement again when capacity may have appeared: at once when poked (a job finished,
/// a worker joined), and every <see cref="SchedulerOptions.PendingRetryInterval"/> otherwise. Each offer is a
/// <see cref="PlaceJob"/> to the job's saga; a saga already placed by another instance ignores it, so several
/// schedulers can run this side by side without harm.
/// </summary>
public sealed class PendingJobDispatcher(
    NpgsqlDataSource dataSource,
    IBus bus,
    IOptions<SchedulerOptions> options,
    ILogger<PendingJobDispatcher> logger) : BackgroundService
{
    readonly SemaphoreSlim _poke = new(0, 1);

    /// <summary>Asks for a pass soon. Pokes that arrive during a pass fold into one more pass.</summary>
    public void Poke()
    {
        if (_poke.CurrentCount == 0)
        {
            try { _poke.Release(); }
            catch (SemaphoreFullException) { } // another poke got there first: one pass is enough
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PendingRetryInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _poke.WaitAsync(interval, stoppingToken);
                await OfferPendingJobs(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Offering pending jobs failed; trying again in {Interval}", interval);
            }
        }
    }

    async Task OfferPendingJobs(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT job_id FROM jobs WHERE current_state = 'Pending' AND (not_before IS NULL OR not_before <= now())
            ORDER BY priority DESC, submitted_at LIMIT $1
            """);
        command.Parameters.AddWithValue(options.Value.PendingBatchSize);
        var jobIds = new List<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                jobIds.Add(reader.GetGuid(0));
        if (jobIds.Count == 0)
            return;

        var saga = await bus.GetSendEndpoint(QueueNames.JobSagaAddress);
        await saga.SendBatch(jobIds.Select(id => new PlaceJob(id)), cancellationToken);
        logger.LogDebug("Offered {Count} pending jobs to placement", jobIds.Count);
    }
}

using Bus.Contracts;
using Bus.Hosting.Messaging;
using MassTransit;

namespace Bus.Gateway.Jobs;

/// <summary>
/// Sends an accepted job's SubmitJob, waiting for the broker at most <see cref="SendTimeout"/> (and
/// <see cref="PerMessage"/> more for each further job of a batch: 12 s for 1,000). The request row is
/// already durable, so a send that fails or times out is not the client's problem: the reconciler's outbox relay
/// sends every request whose saga does not exist after a few seconds. A send the broker confirmed is noted in
/// <see cref="SentSubmissions"/>, so the relay leaves it alone while it waits in the scheduler's queue.
/// </summary>
public sealed class SubmitRelay(IBus bus, SentSubmissions sent, ILogger<SubmitRelay> logger)
{
    static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(2);
    static readonly TimeSpan PerMessage = TimeSpan.FromMilliseconds(10);

    public Task<bool> TrySend(SubmitJob command, CancellationToken cancellationToken) => TrySend([command], cancellationToken);

    /// <summary>
    /// Sends the SubmitJobs of one tenant's submission: one message per job, since each is its own saga, sent at once so
    /// their publisher confirms overlap instead of queueing one behind the other. True when the broker confirmed all.
    /// </summary>
    public async Task<bool> TrySend(IReadOnlyCollection<SubmitJob> commands, CancellationToken cancellationToken)
    {
        if (commands.Count == 0)
            return true;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A batch's confirms take longer than one's; cut short, every unsent job would wait for the relay instead.
        timeout.CancelAfter(SendTimeout + PerMessage * (commands.Count - 1));
        try
        {
            var saga = await bus.GetSendEndpoint(QueueNames.JobSagaAddress);
            await saga.SendBatch(commands, timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Sending {Count} accepted jobs (the first {JobId}) to the scheduler failed ({Error}); the outbox relay sends them later",
                commands.Count, commands.First().JobId, e.Message);
            return false;
        }
        foreach (var tenant in commands.GroupBy(c => c.Tenant))
            sent.Confirmed(tenant.Key, tenant.Select(c => c.RequestId));
        return true;
    }
}

using Bus.Contracts;
using Bus.Hosting.Messaging;
using MassTransit;

namespace Bus.Gateway.Jobs;

/// <summary>
/// Sends an accepted job's SubmitJob, waiting for the broker at most <see cref="SendTimeout"/>. The request row is
/// already durable, so a send that fails or times out is not the client's problem: the reconciler's outbox relay
/// sends every request whose saga does not exist after a few seconds.
/// </summary>
public sealed class SubmitRelay
{
    static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(2);

    public static async Task TrySend(ISendEndpointProvider send, SubmitJob command, ILogger<SubmitRelay> logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SendTimeout);
        try
        {
            var saga = await send.GetSendEndpoint(QueueNames.JobSagaAddress);
            await saga.Send(command, timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Sending job {JobId} to the scheduler failed ({Error}); the outbox relay sends it later", command.JobId, e.Message);
        }
    }
}

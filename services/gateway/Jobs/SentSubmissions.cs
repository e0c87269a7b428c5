using System.Threading.Channels;
using Bus.Persistence.Submissions;
using Npgsql;

namespace Bus.Gateway.Jobs;

/// <summary>
/// Records, for the outbox relay, which accepted jobs' SubmitJobs the broker confirmed (<c>job_requests.sent_at</c>):
/// without it the relay takes a job still waiting in the scheduler's queue for a lost send, and behind a backlog of more
/// than <c>Reconciler:RelayAfter</c> it resends hundreds of jobs every pass, which makes the backlog longer still.
/// </summary>
/// <remarks>
/// Marked in the background, many requests to one statement at most every <see cref="FlushInterval"/>, so a submission
/// pays no write for it. What is lost to a crash, or to a full buffer, is only a mark: the relay then resends those
/// jobs, and the saga ignores a duplicate Submit.
/// </remarks>
public sealed class SentSubmissions(JobRequestClaims claims, TimeProvider clock, ILogger<SentSubmissions> logger) : BackgroundService
{
    /// <summary>The pause between two marking statements; well under the relay's 5 s wait.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    const int Capacity = 100_000;
    const int MaxPerStatement = 5_000;

    readonly Channel<(string Tenant, string RequestId)> _confirmed = Channel.CreateBounded<(string, string)>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>Notes that the broker confirmed these requests' sends; marked within about <see cref="FlushInterval"/>.</summary>
    public void Confirmed(string tenant, IEnumerable<string> requestIds)
    {
        foreach (var requestId in requestIds)
            _confirmed.Writer.TryWrite((tenant, requestId));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _confirmed.Reader.WaitToReadAsync(stoppingToken))
            {
                // Not cancelled by the stop: the marks it has taken would be lost, not left for the stop's own flush.
                // The command timeout bounds it.
                await Flush(CancellationToken.None);
                await Task.Delay(FlushInterval, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // The host gave up waiting for the loop, whose statement still runs: it is the channel's one reader.
        if (ExecuteTask is { IsCompleted: false })
            return;
        // What came in since the last statement, so a clean stop leaves nothing for the relay to resend.
        while (await Flush(cancellationToken) == MaxPerStatement)
        {
        }
    }

    /// <summary>Marks up to <see cref="MaxPerStatement"/> confirmed requests; returns how many it took.</summary>
    async Task<int> Flush(CancellationToken cancellationToken)
    {
        var batch = new List<(string Tenant, string RequestId)>();
        while (batch.Count < MaxPerStatement && _confirmed.Reader.TryRead(out var sent))
            batch.Add(sent);
        if (batch.Count == 0)
            return 0;
        try
        {
            await claims.MarkSent(batch, cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or OperationCanceledException)
        {
            // Also a stop cut short by the host's timeout: the marks are hints, not worth a failed shutdown.
            logger.LogWarning("Recording {Count} sent jobs failed ({Error}); the outbox relay may send them again", batch.Count, e.Message);
        }
        return batch.Count;
    }
}

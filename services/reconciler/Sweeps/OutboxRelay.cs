using System.Text.Json;
using Bus.Contracts;
using Bus.Hosting.Messaging;
using Bus.Persistence.Jobs;
using Bus.Reconciler.Jobs;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using Quartz;

namespace Bus.Reconciler.Sweeps;

/// <summary>
/// The owner of a job accepted but not yet taken up: the gateway's <c>job_requests</c> row is the outbox. Every
/// request older than <see cref="ReconcilerOptions.RelayAfter"/> whose saga does not exist gets its stored SubmitJob
/// sent again, so a gateway that crashed between the insert and the send, or a broker that was down, loses nothing. The
/// saga ignores a duplicate Submit. Only requests younger than <see cref="ReconcilerOptions.RelayWindow"/> are read, and a
/// request whose send the broker confirmed (the gateway's <c>SentSubmissions</c> marks it) only after <see cref="ReconcilerOptions.RelayConfirmedAfter"/>.
/// </summary>
public sealed class OutboxRelay(NpgsqlDataSource dataSource, IBus send, IOptions<ReconcilerOptions> options, TimeProvider clock,
    ILogger<OutboxRelay> logger) : IReconcilerTask
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static JobKey Key { get; } = new("outbox-relay", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    /// <summary>Returns how many submissions were sent.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var command = dataSource.CreateCommand($"""
            SELECT r.submit_command::text FROM job_requests r
            WHERE r.created_at > $1 AND r.created_at < $2
              AND (r.sent_at IS NULL OR r.sent_at < $4)
              AND NOT EXISTS (SELECT FROM {JobColumns.Table} j WHERE j.{JobColumns.JobId} = r.job_id)
            ORDER BY r.created_at
            LIMIT $3
            """);
        command.Parameters.AddWithValue(now - options.Value.RelayWindow);
        command.Parameters.AddWithValue(now - options.Value.RelayAfter);
        command.Parameters.AddWithValue(options.Value.RelayBatchSize);
        command.Parameters.AddWithValue(now - options.Value.RelayConfirmedAfter);
        var pending = new List<SubmitJob>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                pending.Add(JsonSerializer.Deserialize<SubmitJob>(reader.GetString(0), Json)!);

        if (pending.Count == 0)
            return 0;
        var saga = await send.GetSendEndpoint(QueueNames.JobSagaAddress);
        // All at once, so the publisher confirms of a whole array submission overlap instead of queueing one by one.
        await saga.SendBatch(pending, cancellationToken);
        logger.LogWarning("Sent {Count} accepted jobs the scheduler had not taken up to it again", pending.Count);
        return pending.Count;
    }
}

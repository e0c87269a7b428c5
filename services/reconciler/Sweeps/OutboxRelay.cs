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
/// saga ignores a duplicate Submit. A request whose send the broker confirmed (the gateway's <c>SentSubmissions</c>
/// marks it) is sent again only after <see cref="ReconcilerOptions.RelayConfirmedAfter"/>, and nothing older than
/// <see cref="ReconcilerOptions.RelayWindow"/> is read.
/// <para>
/// Each run reads what can have changed, not the whole window: the requests younger than
/// <see cref="ReconcilerOptions.RelayConfirmedAfter"/> that no send confirmed (a partial index holds only those), and
/// the older requests from a cursor on: every request before it had its saga when last read, so it is read again
/// never. The cursor stops at the first request still without one, which is sent again each run until it has one.
/// Reading the whole window every 2 s cost PostgreSQL 1.6 s a run on a database of a few hundred thousand requests.
/// </para>
/// </summary>
public sealed class OutboxRelay(NpgsqlDataSource dataSource, IBus send, IOptions<ReconcilerOptions> options, TimeProvider clock,
    ILogger<OutboxRelay> logger) : IReconcilerTask
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Every request created up to here had its saga when last read. In memory: after a restart the first runs read
    // the window again, RelayScanBatch requests a run.
    DateTimeOffset? _allTakenUpTo;

    public static JobKey Key { get; } = new("outbox-relay", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    /// <summary>Returns how many submissions were sent.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var pending = await Unconfirmed(now, cancellationToken);
        pending.AddRange(await Overdue(now, options.Value.RelayBatchSize - pending.Count, cancellationToken));
        if (pending.Count == 0)
            return 0;
        var saga = await send.GetSendEndpoint(QueueNames.JobSagaAddress);
        // All at once, so the publisher confirms of a whole array submission overlap instead of queueing one by one.
        await saga.SendBatch(pending, cancellationToken);
        logger.LogWarning("Sent {Count} accepted jobs the scheduler had not taken up to it again", pending.Count);
        return pending.Count;
    }

    /// <summary>Requests younger than RelayConfirmedAfter that no send confirmed and no saga took up.</summary>
    async Task<List<SubmitJob>> Unconfirmed(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT r.submit_command::text FROM job_requests r
            WHERE r.sent_at IS NULL AND r.created_at > $1 AND r.created_at < $2
              AND NOT EXISTS (SELECT FROM {JobColumns.Table} j WHERE j.{JobColumns.JobId} = r.job_id)
            ORDER BY r.created_at
            LIMIT $3
            """);
        command.Parameters.AddWithValue(Max(now - options.Value.RelayConfirmedAfter, now - options.Value.RelayWindow));
        command.Parameters.AddWithValue(now - options.Value.RelayAfter);
        command.Parameters.AddWithValue(options.Value.RelayBatchSize);
        var pending = new List<SubmitJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            pending.Add(JsonSerializer.Deserialize<SubmitJob>(reader.GetString(0), Json)!);
        return pending;
    }

    /// <summary>
    /// Requests older than RelayConfirmedAfter with no saga, confirmed or not, read from the cursor on; moves the
    /// cursor to the last request before the first without a saga (requests created in one statement share a time,
    /// so it moves by whole times only).
    /// </summary>
    async Task<List<SubmitJob>> Overdue(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        var upTo = now - options.Value.RelayConfirmedAfter;
        var from = Max(_allTakenUpTo ?? DateTimeOffset.MinValue, now - options.Value.RelayWindow);
        await using var command = dataSource.CreateCommand($"""
            SELECT r.created_at, r.sent_at IS NULL OR r.sent_at <= $2, t.taken_up,
                   CASE WHEN NOT t.taken_up THEN r.submit_command::text END
            FROM job_requests r
            CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM {JobColumns.Table} j WHERE j.{JobColumns.JobId} = r.job_id) AS taken_up) t
            WHERE r.created_at > $1 AND r.created_at <= $2
            ORDER BY r.created_at
            LIMIT $3
            """);
        command.Parameters.AddWithValue(from);
        command.Parameters.AddWithValue(upTo);
        command.Parameters.AddWithValue(options.Value.RelayScanBatch);
        var overdue = new List<SubmitJob>();
        DateTimeOffset? complete = null, current = null;
        var blocked = false;
        var rows = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
            {
                rows++;
                var createdAt = reader.GetFieldValue<DateTimeOffset>(0);
                if (!blocked && current != createdAt)
                    (complete, current) = (current ?? complete, createdAt);
                if (reader.GetBoolean(2))
                    continue;
                blocked = true;
                // Confirmed lately (its send waited out an outage, say): it is in the queue; not yet.
                if (reader.GetBoolean(1) && overdue.Count < limit)
                    overdue.Add(JsonSerializer.Deserialize<SubmitJob>(reader.GetString(3), Json)!);
            }
        if (!blocked)
            complete = rows < options.Value.RelayScanBatch ? upTo : complete;
        if (complete > from)
            _allTakenUpTo = complete;
        return overdue;
    }

    static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

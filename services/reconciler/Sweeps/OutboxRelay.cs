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
/// <see cref="ReconcilerOptions.RelayWindow"/> is read. Every time is the database's (<c>now()</c>), as the rows' are.
/// <para>
/// Each run reads what can have changed, not the whole window: the requests younger than
/// <see cref="ReconcilerOptions.RelayConfirmedAfter"/> that no send confirmed (a partial index holds only those); the
/// older requests once each, in order from where the last run stopped; and, by id, the older ones those reads found
/// without a saga, until they have one. Reading the whole window every 2 s cost PostgreSQL 1.6 s a run on a database of
/// a few hundred thousand requests.
/// </para>
/// </summary>
public sealed class OutboxRelay(NpgsqlDataSource dataSource, IBus send, IOptions<ReconcilerOptions> options,
    ILogger<OutboxRelay> logger) : IReconcilerTask
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Where the in-order read of older requests stopped: (created_at, job_id) of the last one read. In memory: after a
    // restart the first runs read the window again, RelayScanBatch requests a run.
    (DateTimeOffset CreatedAt, Guid JobId)? _readUpTo;

    // Older requests read without a saga: checked again by id every run until they have one or leave the window.
    // At most RelayWaitingLimit of them: the in-order read waits while it is full.
    readonly HashSet<Guid> _waiting = [];

    public static JobKey Key { get; } = new("outbox-relay", "reconciler");

    Task IReconcilerTask.Run(CancellationToken cancellationToken) => Run(cancellationToken);

    /// <summary>Returns how many submissions were sent.</summary>
    public async Task<int> Run(CancellationToken cancellationToken)
    {
        var pending = await Unconfirmed(cancellationToken);
        await ReadOlder(cancellationToken);
        pending.AddRange(await Overdue(options.Value.RelayBatchSize - pending.Count, cancellationToken));
        if (pending.Count == 0)
            return 0;
        var saga = await send.GetSendEndpoint(QueueNames.JobSagaAddress);
        // All at once, so the publisher confirms of a whole array submission overlap instead of queueing one by one.
        await saga.SendBatch(pending, cancellationToken);
        logger.LogWarning("Sent {Count} accepted jobs the scheduler had not taken up to it again", pending.Count);
        return pending.Count;
    }

    /// <summary>Requests younger than RelayConfirmedAfter that no send confirmed and no saga took up.</summary>
    async Task<List<SubmitJob>> Unconfirmed(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT r.submit_command::text FROM job_requests r
            WHERE r.sent_at IS NULL AND r.created_at > now() - LEAST($1::interval, $2::interval) AND r.created_at < now() - $3::interval
              AND NOT EXISTS (SELECT FROM {JobColumns.Table} j WHERE j.{JobColumns.JobId} = r.job_id)
            ORDER BY r.created_at
            LIMIT $4
            """);
        command.Parameters.AddWithValue(options.Value.RelayConfirmedAfter);
        command.Parameters.AddWithValue(options.Value.RelayWindow);
        command.Parameters.AddWithValue(options.Value.RelayAfter);
        command.Parameters.AddWithValue(options.Value.RelayBatchSize);
        var pending = new List<SubmitJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            pending.Add(JsonSerializer.Deserialize<SubmitJob>(reader.GetString(0), Json)!);
        return pending;
    }

    /// <summary>
    /// The next RelayScanBatch requests older than RelayConfirmedAfter, in (created_at, job_id) order from where the last
    /// run stopped; those without a saga join the ones checked by id. No more are read than those can take without
    /// passing RelayWaitingLimit.
    /// </summary>
    async Task ReadOlder(CancellationToken cancellationToken)
    {
        var room = options.Value.RelayWaitingLimit - _waiting.Count;
        if (room <= 0)
            return;
        await using var command = dataSource.CreateCommand($"""
            SELECT r.created_at, r.job_id,
                   EXISTS (SELECT FROM {JobColumns.Table} j WHERE j.{JobColumns.JobId} = r.job_id)
            FROM job_requests r
            WHERE (r.created_at, r.job_id) > (GREATEST($1, now() - $2::interval), $3)
              AND r.created_at <= now() - $4::interval
            ORDER BY r.created_at, r.job_id
            LIMIT $5
            """);
        command.Parameters.AddWithValue(_readUpTo?.CreatedAt ?? DateTimeOffset.UnixEpoch);
        command.Parameters.AddWithValue(options.Value.RelayWindow);
        command.Parameters.AddWithValue(_readUpTo?.JobId ?? Guid.Empty);
        command.Parameters.AddWithValue(options.Value.RelayConfirmedAfter);
        command.Parameters.AddWithValue(Math.Min(options.Value.RelayScanBatch, room));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            _readUpTo = (reader.GetFieldValue<DateTimeOffset>(0), reader.GetGuid(1));
            if (!reader.GetBoolean(2))
                _waiting.Add(reader.GetGuid(1));
        }
    }

    /// <summary>
    /// Of the older requests read without a saga, those still without one; sent again once confirmed long enough ago
    /// (one confirmed late, its send having waited out an outage, say, is in the queue: not yet).
    /// </summary>
    async Task<List<SubmitJob>> Overdue(int limit, CancellationToken cancellationToken)
    {
        if (_waiting.Count == 0)
            return [];
        await using var command = dataSource.CreateCommand($"""
            SELECT r.job_id, CASE WHEN r.sent_at IS NULL OR r.sent_at <= now() - $2::interval THEN r.submit_command::text END
            FROM job_requests r
            WHERE r.job_id = ANY($1) AND r.created_at > now() - $3::interval
              AND NOT EXISTS (SELECT FROM {JobColumns.Table} j WHERE j.{JobColumns.JobId} = r.job_id)
            """);
        command.Parameters.AddWithValue(_waiting.ToArray());
        command.Parameters.AddWithValue(options.Value.RelayConfirmedAfter);
        command.Parameters.AddWithValue(options.Value.RelayWindow);
        var overdue = new List<SubmitJob>();
        var still = new List<Guid>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
            {
                still.Add(reader.GetGuid(0));
                if (!reader.IsDBNull(1) && overdue.Count < limit)
                    overdue.Add(JsonSerializer.Deserialize<SubmitJob>(reader.GetString(1), Json)!);
            }
        // Taken up meanwhile, or out of the window: not checked again.
        _waiting.IntersectWith(still);
        return overdue;
    }
}

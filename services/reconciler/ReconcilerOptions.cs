namespace Bus.Reconciler;

/// <summary>How often the periodic jobs run, and what the archiver moves. Bound from the <c>Reconciler</c> section.</summary>
public sealed class ReconcilerOptions
{
    public const string Section = "Reconciler";

    /// <summary>
    /// How often Redis's reservations are compared with PostgreSQL's allocations and repaired. Default 5 min.
    /// A difference is repaired once two runs in a row have seen it, so a reservation in flight is never touched:
    /// drift is gone within two intervals.
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How often jobs on dead workers are looked for. A worker is dead once its registration has expired
    /// (Worker:RegistrationTtl after its last heartbeat) and two sweeps in a row have found it missing, so its jobs
    /// are retried or failed within the TTL plus one to two intervals. Default 10 s.
    /// </summary>
    public TimeSpan LostWorkerSweepInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a placed attempt may wait for its worker to start it. Past this its RunJob is sent to the worker again,
    /// as the same attempt (a lost RunJob must not leave a job Allocated for ever), at most once per lease. Checked
    /// every <see cref="LostWorkerSweepInterval"/>. Default 60 s.
    /// </summary>
    public TimeSpan StartLease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How many times an attempt's RunJob is sent again, a lease apart, before an attempt that never started is given
    /// up as lost and placed elsewhere (a worker that is registered but takes nothing from its queue). Default 2.
    /// </summary>
    public int StartTries { get; set; } = 2;

    /// <summary>
    /// How long past its timeoutSeconds a Running attempt may go before the server tells its worker to stop it, and
    /// again before the server ends it TimedOut itself (its worker kills it at the timeout on its own; this covers a
    /// worker that is silent or gone, or a report stuck on its way), and how long a live worker's heartbeats
    /// may leave out an attempt the database calls Running before the worker is asked about it. Checked every
    /// <see cref="LostWorkerSweepInterval"/>. Default 30 s: more than a heartbeat interval, so a report in flight lands first.
    /// </summary>
    public TimeSpan RunningGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How old an accepted request (a <c>job_requests</c> row) must be, with no job saga yet, before its SubmitJob is sent
    /// again by the outbox relay. Default 5 s: the gateway's own send normally lands well within it.
    /// </summary>
    public TimeSpan RelayAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How far back the outbox relay looks for requests never taken up. Default 7 days.</summary>
    public TimeSpan RelayWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long after the broker confirmed a request's SubmitJob (which the gateway records in job_requests.sent_at)
    /// the outbox relay sends it again if its saga still does not exist. Much longer than <see cref="RelayAfter"/>:
    /// the message is in the scheduler's queue, maybe behind a backlog of thousands, and resending them all would
    /// double the backlog. It covers a confirmed message lost anyway (a queue purged by hand). Default 10 min.
    /// </summary>
    public TimeSpan RelayConfirmedAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The most submissions the outbox relay sends per run. Default 500.</summary>
    public int RelayBatchSize { get; set; } = 500;

    /// <summary>
    /// The most requests older than <see cref="RelayConfirmedAfter"/> the outbox relay reads per run, in order from
    /// where it stopped. Each is read once (those found without a saga are then checked by id), so this bounds only
    /// how fast a restarted reconciler catches up on the window (it keeps its place in memory). Default 5,000.
    /// </summary>
    public int RelayScanBatch { get; set; } = 5000;

    /// <summary>
    /// The most older requests found without a saga that the outbox relay keeps checking by id, every run. While it
    /// holds this many, the in-order read of <see cref="RelayScanBatch"/> waits where it stopped, until some have a
    /// saga or leave <see cref="RelayWindow"/>: nothing is skipped, and a run's check by id stays one bounded
    /// statement however long the scheduler has been away. Default 50,000.
    /// </summary>
    public int RelayWaitingLimit { get; set; } = 50_000;

    /// <summary>How often the outbox relay runs. Default 2 s.</summary>
    public TimeSpan RelayInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a released allocation stays in <c>resource_allocations</c> before the archiver moves it to
    /// <c>resource_allocations_history</c>. Default 30 days. Unreleased allocations are never moved.
    /// </summary>
    public TimeSpan ArchiveAfter { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often the archiver runs. Default 1 hour.</summary>
    public TimeSpan ArchiveInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How many rows the archiver moves per statement. Default 5000. Each batch is its own transaction, so a
    /// large backlog never holds locks or a transaction open for long; the archiver repeats batches until none is left.
    /// </summary>
    public int ArchiveBatchSize { get; set; } = 5000;

    /// <summary>
    /// How long a finished job (Completed, Failed, Cancelled, TimedOut) is kept, with its output, its result, its
    /// transitions and its request id, before <see cref="Archive.JobRetention"/> deletes them. Default 90 days. A request
    /// id is only idempotent for this long: submitted again after it, it makes a new job. Runs with the archiver, in
    /// batches of <see cref="ArchiveBatchSize"/>.
    /// </summary>
    public TimeSpan JobRetention { get; set; } = TimeSpan.FromDays(90);
}

namespace Bus.Scheduler.Data;

/// <summary>
/// One state change of a job, a row of <c>job_transitions</c>. Written with the saga row it describes
/// (<see cref="SchedulerDbContext.SaveChangesAsync"/>), never on its own.
/// </summary>
public sealed class JobTransition
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public string Tenant { get; set; } = "";
    public string FromState { get; set; } = "";
    public string ToState { get; set; } = "";
    /// <summary>The state machine event that caused it (Submit, Place, Started, AttemptFailed, ...).</summary>
    public string Event { get; set; } = "";
    public int Attempt { get; set; }
    public string? WorkerId { get; set; }
    /// <summary>Why the job waits, when it went back to Pending or stays there.</summary>
    public string? Reason { get; set; }
    public int? ExitCode { get; set; }
    public string? Error { get; set; }
    /// <summary>The message that caused it, to find it in logs and traces.</summary>
    public Guid? MessageId { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>Whether this change carries a result, its exit code and error: it ended an attempt, or reached a final
    /// state. Not a column.</summary>
    public bool EndsAttempt { get; init; }

    /// <summary>Whether the job waits after this change (so its pending reason describes it). Not a column.</summary>
    public bool ToPending { get; init; }

    /// <summary>
    /// Takes the job's fields that describe this change. The machine may set them after it changes state, within the
    /// same message, so the last change of a message is described again from the row as it is written.
    /// </summary>
    public void Describe(StateMachines.JobState job)
    {
        Attempt = job.Attempt;
        WorkerId = job.WorkerId;
        Reason = ToPending ? job.PendingReason : null;
        ExitCode = EndsAttempt ? job.ExitCode : null;
        Error = EndsAttempt ? job.Error : null;
    }
}

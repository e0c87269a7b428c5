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
}

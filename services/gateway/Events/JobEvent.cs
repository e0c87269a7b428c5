namespace Bus.Gateway.Events;

/// <summary>
/// One event of a job's stream (<c>GET /api/v1/jobs/{id}/events</c>, <c>GET /api/v1/events</c>): a state change as
/// the saga stored it, or, first on a new per-job stream, the job's current state (<see cref="Event"/> is
/// <c>Snapshot</c> and <see cref="PreviousState"/> null).
/// </summary>
/// <param name="Event">What caused it: the state machine's event (Submit, Place, Started, AttemptCompleted, AttemptFailed,
/// AttemptStopped, AttemptLost, Cancel, ...) or Snapshot.</param>
/// <param name="Reason">Why the job waits, when it is Pending.</param>
/// <param name="Error">What went wrong, when an attempt ended badly.</param>
/// <param name="Result">On a per-job stream's final state (and its <c>end</c>), the job's structured result, if it has
/// one; the tenant-wide stream leaves it out.</param>
public sealed record JobEvent(
    Guid JobId,
    string State,
    string? PreviousState,
    string Event,
    int Attempt,
    string? WorkerId,
    string? Reason,
    int? ExitCode,
    string? Error,
    DateTimeOffset At,
    System.Text.Json.JsonElement? Result = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinal => Bus.Contracts.JobStates.IsFinal(State);
}

/// <summary>A stored event with its place in the stream, and the tenant it belongs to.</summary>
public sealed record StoredJobEvent(EventCursor Cursor, string Tenant, JobEvent Event);

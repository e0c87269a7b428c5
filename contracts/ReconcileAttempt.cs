namespace Bus.Contracts;

/// <summary>
/// The reconciler asks a worker about an attempt the database calls Running but the worker's heartbeats have not
/// listed for a while. Sent to the worker's own queue. The worker sends the attempt's final report again if it has
/// one; if it never ran the attempt, it disowns it (it will never run it) and publishes <see cref="JobAttemptLost"/>.
/// </summary>
public record ReconcileAttempt(Guid JobId, int Attempt, string WorkerId, DateTimeOffset At);

namespace Bus.Contracts;

/// <summary>
/// A worker stopped heartbeating while it held jobs, and the reconciler's lost-worker sweep declared it dead.
/// Published once per registration: a worker that registers again and is lost again is published again.
/// </summary>
/// <param name="LastSeen">Its last heartbeat as the sweep saw it; null when the sweep never saw it live.</param>
public record WorkerLost(string WorkerId, DateTimeOffset? LastSeen, DateTimeOffset DetectedAt);

namespace Bus.Contracts;

/// <summary>
/// Why a pending job is not running yet, as a machine-readable code: the closed set every pending job's
/// <c>pendingReasonCode</c> comes from, next to the sentence in <c>pendingReason</c>. Placement's selection steps
/// produce all but <see cref="Backoff"/> (a retry waiting out its delay) and <see cref="Submitted"/> (the gateway
/// accepted the job and the scheduler has not taken it up yet). Stored by name, so the order here is free to change;
/// a name never changes once shipped.
/// </summary>
public enum PendingReasonCode
{
    /// <summary>Accepted by the gateway; the scheduler has not taken the job up yet.</summary>
    Submitted,
    /// <summary>No live, ready worker offers the job's service (or no worker is live at all).</summary>
    NoWorkerForService,
    /// <summary>Workers offer the service, but none of them for the job's language.</summary>
    NoWorkerForLanguage,
    /// <summary>Workers offer it, but none is in a pool that serves the job.</summary>
    NoPool,
    /// <summary>Every eligible worker reported the service unavailable; the job is tried again when a report lapses.</summary>
    Unavailable,
    /// <summary>The job needs more than any eligible worker has even when idle.</summary>
    TooLarge,
    /// <summary>The only workers big enough are the one the job excludes.</summary>
    ExcludedOnlyEligible,
    /// <summary>Eligible workers exist, all busy: waiting for capacity.</summary>
    Resources,
    /// <summary>As <see cref="Resources"/>, and the worker with room is kept free for a job that has waited longer.</summary>
    Held,
    /// <summary>A failed attempt's retry waits out its backoff delay.</summary>
    Backoff,
}

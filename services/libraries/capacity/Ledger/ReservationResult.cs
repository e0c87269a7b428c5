namespace Bus.Capacity.Ledger;

/// <summary>What a reservation attempt on one worker came to. The values are <c>reserve.lua</c>'s reply codes.</summary>
public enum ReservationResult
{
    /// <summary>The worker's capacity or slot limit would be exceeded.</summary>
    NoCapacity = 0,
    /// <summary>Reserved now.</summary>
    Reserved = 1,
    /// <summary>This attempt already held the reservation; nothing changed.</summary>
    AlreadyHeld = 2,
    /// <summary>The worker's registration has expired or never existed.</summary>
    WorkerGone = -1,
    /// <summary>The worker is draining and takes no new jobs.</summary>
    WorkerDraining = -2,
    /// <summary>Another attempt of the same job holds a reservation on this worker.</summary>
    HeldByOtherAttempt = -3,
    /// <summary>This attempt's reservation on this worker was released already: the attempt is over, and a late try to
    /// place it (a second scheduler's, say) must not hold it again.</summary>
    AttemptReleased = -4,
}

/// <summary>What giving back one attempt's Redis reservation came to. The values are <c>release.lua</c>'s reply codes.</summary>
public enum ReleaseResult
{
    /// <summary>Nothing was held for the job: a repeat, or never reserved in Redis.</summary>
    NothingHeld = 0,
    /// <summary>Released now.</summary>
    Released = 1,
    /// <summary>Another attempt of the job holds the reservation: a stale release, refused.</summary>
    HeldByOtherAttempt = -3,
}

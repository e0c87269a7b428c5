namespace Bus.Infrastructure.Redis;

/// <summary>What a reservation attempt on one worker came to. The values are the Lua script's return codes.</summary>
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
}

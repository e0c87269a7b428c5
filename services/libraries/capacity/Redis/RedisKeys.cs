using StackExchange.Redis;

namespace Bus.Capacity.Redis;

/// <summary>
/// The one place that names Redis keys. Every key of one worker carries the hash tag
/// <c>{w:&lt;workerId&gt;}</c>, so a Lua script over a worker's keys lands on one Redis Cluster slot.
/// </summary>
public sealed class RedisKeys(string prefix)
{
    /// <summary>The worker's registration: capacity, capabilities, status. Expires unless heartbeats refresh it.</summary>
    public RedisKey WorkerInfo(string workerId) => $"{prefix}{{w:{workerId}}}:info";

    /// <summary>The worker's allocated resources and running job count.</summary>
    public RedisKey WorkerUsed(string workerId) => $"{prefix}{{w:{workerId}}}:used";

    /// <summary>The worker's reservations: job id to "attempt cpus memoryMb gpus", then the bound GPU ids if any ("0,1").</summary>
    public RedisKey WorkerJobs(string workerId) => $"{prefix}{{w:{workerId}}}:jobs";

    /// <summary>
    /// The worker's recently released attempts ("jobId:attempt", scored by release time in unix seconds), so the
    /// sync never restores a reservation its worker gave back while the allocation row still waits to be released.
    /// </summary>
    public RedisKey WorkerReleased(string workerId) => $"{prefix}{{w:{workerId}}}:released";

    /// <summary>
    /// Index of registered workers, scored by registration expiry (unix ms). It replaces <c>KEYS</c>:
    /// written once per heartbeat, never per reservation.
    /// </summary>
    public RedisKey LiveWorkers => $"{prefix}workers:live";

    /// <summary>
    /// Set (NX, with a TTL) when a worker reports a service unavailable. Its existence is the debounce: a
    /// report that finds it changes nothing, on any scheduler instance.
    /// </summary>
    public RedisKey ServiceUnavailable(string workerId, string service) => $"{prefix}unavailable:{{w:{workerId}}}:{service}";

    /// <summary>
    /// Index of the (worker, service) pairs reported unavailable, scored by when the report lapses (unix ms). Read by
    /// placement's background snapshot instead of enumerating keys; written once per report window, not per placement.
    /// </summary>
    public RedisKey UnavailableIndex => $"{prefix}unavailable:index";

    /// <summary>The worker that last served an affinity key of one tenant. Written once per placement of such a job.</summary>
    public RedisKey Affinity(string tenant, string affinityKey) => $"{prefix}affinity:{tenant}:{affinityKey}";

    /// <summary>The capacity hold: the one long-waiting job placement keeps a worker free for. Written by the pending-job pass.</summary>
    public RedisKey CapacityHold => $"{prefix}placement:hold";

    /// <summary>Lease of the periodic pending-job pass, so one scheduler instance per interval runs it.</summary>
    public RedisKey PendingPassLease => $"{prefix}placement:pending-pass";

    /// <summary>
    /// The jobs event passes offered lately, scored by when (unix ms), so two scheduler instances woken by two events
    /// do not both offer the same head of the queue. Written once per event pass that offers anything.
    /// </summary>
    public RedisKey RecentOffers => $"{prefix}placement:offers";

    /// <summary>
    /// Lease of the event passes: the instance holding it runs them, renewing it with each; another instance poked
    /// meanwhile passes only once the lease has lapsed. Written once per event pass.
    /// </summary>
    public RedisKey EventPassLease => $"{prefix}placement:event-pass";
}

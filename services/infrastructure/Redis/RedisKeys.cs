using StackExchange.Redis;

namespace Bus.Infrastructure.Redis;

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

    /// <summary>The worker's reservations: job id to "attempt cpus memoryMb gpus".</summary>
    public RedisKey WorkerJobs(string workerId) => $"{prefix}{{w:{workerId}}}:jobs";

    /// <summary>
    /// Index of registered workers, scored by registration expiry (unix ms). It replaces <c>KEYS</c>:
    /// written once per heartbeat, never per reservation.
    /// </summary>
    public RedisKey LiveWorkers => $"{prefix}workers:live";
}

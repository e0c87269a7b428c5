using System.Text.Json;
using Bus.Capacity.Redis;
using StackExchange.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// What scheduler instances share about the pending queue, in Redis: a lease so that one instance per interval runs
/// the full periodic pass, and the capacity hold that pass decides, which every instance's snapshot reads. While Redis
/// is down every instance leads (offers are idempotent, so that costs reads, not double placements) and no capacity
/// is held.
/// </summary>
public sealed class PendingPassCoordinator(IConnectionMultiplexer redis, RedisKeys keys, RedisOutagePolicy outage)
{
    readonly IDatabase _db = redis.GetDatabase();
    readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>True when this instance runs the periodic pass for the next <paramref name="period"/> (SET NX PX).</summary>
    /// <remarks>
    /// Unlike every other reader of Redis, an outage answers yes rather than "nothing": with no lease to share, a pass
    /// no instance runs would leave jobs waiting for an event, while a pass every instance runs only costs reads.
    /// </remarks>
    public Task<bool> TryLead(TimeSpan period) =>
        outage.Run(() => _db.StringSetAsync(keys.PendingPassLease, _instance, period, When.NotExists), onOutage: true);

    /// <summary>The hold every snapshot reads; none while Redis is down.</summary>
    public async Task<CapacityHold?> ReadHold()
    {
        var value = await outage.Run(() => _db.StringGetAsync(keys.CapacityHold), onOutage: RedisValue.Null);
        if (!value.HasValue)
            return null;
        try
        {
            return JsonSerializer.Deserialize<CapacityHold>(value.ToString());
        }
        catch (JsonException)
        {
            return null; // written by another version: no hold is the safe reading
        }
    }

    /// <summary>Sets the hold for <paramref name="ttl"/>; the pass renews it while the job still waits, so a hold outlives no leader.</summary>
    /// <remarks>No hold while Redis is down: skipped, and the next periodic pass after it returns decides again.</remarks>
    public Task WriteHold(CapacityHold hold, TimeSpan ttl) =>
        outage.Run(() => _db.StringSetAsync(keys.CapacityHold, JsonSerializer.Serialize(hold), ttl));

    public Task ClearHold() => outage.Run(() => _db.KeyDeleteAsync(keys.CapacityHold));
}

using System.Text.Json;
using Bus.Infrastructure.Redis;
using StackExchange.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// What scheduler instances share about the pending queue, in Redis: a lease so that one instance per interval runs
/// the full periodic pass, and the capacity hold that pass decides, which every instance's snapshot reads. While Redis
/// is down every instance leads (offers are idempotent, so that costs reads, not double placements) and no capacity
/// is held.
/// </summary>
public sealed class PendingPassCoordinator(IConnectionMultiplexer redis, RedisKeys keys)
{
    readonly IDatabase _db = redis.GetDatabase();
    readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>True when this instance runs the periodic pass for the next <paramref name="period"/> (SET NX PX).</summary>
    public async Task<bool> TryLead(TimeSpan period)
    {
        try
        {
            return await _db.StringSetAsync(keys.PendingPassLease, _instance, period, When.NotExists);
        }
        catch (Exception e) when (RedisOutage.IsOutage(e))
        {
            return true;
        }
    }

    public async Task<CapacityHold?> ReadHold()
    {
        RedisValue value;
        try
        {
            value = await _db.StringGetAsync(keys.CapacityHold);
        }
        catch (Exception e) when (RedisOutage.IsOutage(e))
        {
            return null;
        }
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
    public Task WriteHold(CapacityHold hold, TimeSpan ttl) =>
        IgnoringOutage(() => _db.StringSetAsync(keys.CapacityHold, JsonSerializer.Serialize(hold), ttl));

    public Task ClearHold() => IgnoringOutage(() => _db.KeyDeleteAsync(keys.CapacityHold));

    static async Task IgnoringOutage(Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (Exception e) when (RedisOutage.IsOutage(e))
        {
            // No hold while Redis is down; the next periodic pass after it returns decides again.
        }
    }
}

using System.Text.Json;
using Bus.Capacity.Redis;
using Bus.Persistence.Jobs;
using StackExchange.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// What scheduler instances share about the pending queue, in Redis: a lease so that one instance per interval runs
/// the full periodic pass, the capacity hold that pass decides, which every instance's snapshot reads, and the jobs
/// event passes offered lately, so that two instances woken at once do not both offer the same jobs. While Redis
/// is down every instance leads and offers what it chose (offers are idempotent, so that costs reads and saga
/// conflicts, not double placements) and no capacity is held.
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

    /// <summary>
    /// Null when this instance runs event passes for the next <paramref name="lease"/> (taken, or renewed as its
    /// holder); else how long the instance that holds the lease keeps it, unless it passes again. Null while Redis is
    /// down: every instance passes then.
    /// </summary>
    public async Task<TimeSpan?> LeadEventPasses(TimeSpan lease)
    {
        var left = await outage.Run(async () => (long)(await LuaScripts.LeadEventPasses.EvaluateAsync(_db, new
        {
            key = keys.EventPassLease, instance = _instance, ttlMs = (long)Math.Ceiling(lease.TotalMilliseconds),
        })), onOutage: -1L);
        return left < 0 ? null : TimeSpan.FromMilliseconds(left);
    }

    /// <summary>
    /// Of <paramref name="jobs"/>, those no instance offered within <paramref name="cooldown"/>, now marked offered by
    /// this one (one script on one key, <c>claim_offers.lua</c>); all of them while Redis is down.
    /// </summary>
    public async Task<IReadOnlyList<PendingJob>> ClaimOffers(IReadOnlyList<PendingJob> jobs, TimeSpan cooldown)
    {
        if (jobs.Count == 0)
            return jobs;
        var claimed = await outage.Run<HashSet<Guid>?>(async () =>
        {
            var reply = await LuaScripts.ClaimOffers.EvaluateAsync(_db, new
            {
                key = keys.RecentOffers,
                cooldownMs = (long)Math.Ceiling(cooldown.TotalMilliseconds),
                ids = string.Join(',', jobs.Select(j => j.JobId.ToString("N"))),
            });
            return ((RedisResult[])reply!).Select(r => Guid.ParseExact((string)r!, "N")).ToHashSet();
        }, onOutage: null);
        return claimed is null ? jobs : jobs.Where(j => claimed.Contains(j.JobId)).ToList();
    }

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

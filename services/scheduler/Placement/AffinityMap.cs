using System.Security.Cryptography;
using System.Text;
using Bus.Capacity.Redis;
using StackExchange.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>
/// Session affinity: which worker last served an affinity key, per tenant, for a while. One small key per
/// affinity key, written once per placement of a job that carries one (never by other reservations), and read once
/// when such a job is placed.
/// </summary>
public sealed class AffinityMap(IConnectionMultiplexer redis, RedisKeys keys, RedisOutagePolicy outage)
{
    readonly IDatabase _db = redis.GetDatabase();

    /// <summary>The worker that served the key last, or null when none did within the TTL or Redis is down (placed as if the key were new).</summary>
    public Task<string?> Lookup(string tenant, string affinityKey) => outage.Run(async () =>
    {
        var worker = await _db.StringGetAsync(Key(tenant, affinityKey));
        return worker.HasValue ? worker.ToString() : null;
    }, onOutage: (string?)null);

    /// <summary>
    /// Remembers the worker for <paramref name="ttl"/>, from now. Fire and forget: losing one write only costs the next
    /// job of the key its preference, so placement does not wait for it.
    /// </summary>
    public void Remember(string tenant, string affinityKey, string workerId, TimeSpan ttl) =>
        outage.Send(() => _db.StringSet(Key(tenant, affinityKey), workerId, ttl, flags: CommandFlags.FireAndForget));

    RedisKey Key(string tenant, string affinityKey) =>
        // Keys are the client's: long ones are hashed, so a key name stays small whatever is submitted.
        keys.Affinity(tenant, affinityKey.Length <= 128
            ? affinityKey
            : "sha256-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(affinityKey))));
}

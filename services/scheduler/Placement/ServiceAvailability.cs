using System.Collections.Concurrent;
using Bus.Capacity.Redis;
using StackExchange.Redis;

namespace Bus.Scheduler.Placement;

/// <summary>A (worker, service) pair reported unavailable, until the report lapses.</summary>
public sealed record UnavailableService(string WorkerId, string Service, DateTimeOffset Until);

/// <summary>What became of one report handed to <see cref="ServiceAvailability.Report"/>.</summary>
public enum ReportOutcome
{
    /// <summary>Inside a window this process already knew of: dropped in memory, Redis not asked.</summary>
    Dropped,

    /// <summary>Redis answered that another report (of any instance) had already opened the window.</summary>
    Debounced,

    /// <summary>This report opened the window and wrote the index placement reads.</summary>
    Recorded,
}

/// <summary>
/// Service-unavailable reports in Redis. A report sets a per-pair key with <c>SET NX PX</c>: the first report of a
/// window wins on whichever scheduler instance it lands, and only the winner writes the index placement reads. Later
/// reports inside the window learn how long it has left, so each instance can drop them without asking Redis again:
/// <see cref="Report"/> does that, and is what the scheduler's consumer and the report-storm benchmark both call.
/// One instance per process (a singleton), so its memory of open windows is the process's.
/// </summary>
public sealed class ServiceAvailability(IConnectionMultiplexer redis, RedisKeys keys, TimeProvider clock)
{
    const char Separator = '\n';
    const int MaxKnownWindows = 10_000;

    readonly IDatabase _db = redis.GetDatabase();

    // Windows this process knows are open, and until when.
    readonly ConcurrentDictionary<(string WorkerId, string Service), DateTimeOffset> _knownWindows = new();

    /// <summary>
    /// Records a report unless this process already knows its window is open, in which case it is dropped without
    /// any I/O: so a storm of repeats costs one Redis call per (worker, service) per window, not one per report.
    /// Returns what became of it and when its window ends.
    /// </summary>
    public async ValueTask<(ReportOutcome Outcome, DateTimeOffset Until)> Report(string workerId, string service, string reason, TimeSpan ttl)
    {
        var pair = (workerId, service);
        if (_knownWindows.TryGetValue(pair, out var known) && known > clock.GetUtcNow())
            return (ReportOutcome.Dropped, known);

        var (recorded, until) = await MarkUnavailable(workerId, service, reason, ttl);
        if (_knownWindows.Count >= MaxKnownWindows)
            _knownWindows.Clear(); // only a shortcut: forgetting costs one Redis call per pair
        _knownWindows[pair] = until;
        return (recorded ? ReportOutcome.Recorded : ReportOutcome.Debounced, until);
    }

    /// <summary>
    /// Records a report in Redis, always asking it (<see cref="Report"/> first drops what this process already knows).
    /// Returns whether this report opened a new window (false: debounced), and when the window ends either way.
    /// </summary>
    public async Task<(bool Recorded, DateTimeOffset Until)> MarkUnavailable(string workerId, string service, string reason, TimeSpan ttl)
    {
        var now = clock.GetUtcNow();
        // mark_unavailable.lua answers { 1 } when this report opened the window, else { 0, ms the window has left }.
        var reply = (RedisResult[])(await LuaScripts.MarkUnavailable.EvaluateAsync(_db, new
        {
            key = keys.ServiceUnavailable(workerId, service), reason, ttlMs = (long)ttl.TotalMilliseconds,
        }))!;
        if ((int)reply[0] == 0)
            return (false, now + TimeSpan.FromMilliseconds((long)reply[1]));

        var until = now + ttl;
        // The index is another key (another slot), so a second command: scored by the lapse, so readers ignore
        // lapsed entries and the trim below is housekeeping only.
        await _db.SortedSetAddAsync(keys.UnavailableIndex, $"{workerId}{Separator}{service}", until.ToUnixTimeMilliseconds());
        await _db.SortedSetRemoveRangeByScoreAsync(keys.UnavailableIndex, double.NegativeInfinity, now.ToUnixTimeMilliseconds(), Exclude.Stop);
        return (true, until);
    }

    /// <summary>Every (worker, service) pair whose report has not lapsed: one sorted-set read, never <c>KEYS</c>.</summary>
    public async Task<IReadOnlyList<UnavailableService>> ListUnavailable()
    {
        var nowMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var entries = await _db.SortedSetRangeByScoreWithScoresAsync(keys.UnavailableIndex, nowMs, double.PositiveInfinity, Exclude.Start);
        var pairs = new List<UnavailableService>(entries.Length);
        foreach (var entry in entries)
        {
            var member = entry.Element.ToString();
            var split = member.IndexOf(Separator);
            if (split > 0)
                pairs.Add(new UnavailableService(member[..split], member[(split + 1)..], DateTimeOffset.FromUnixTimeMilliseconds((long)entry.Score)));
        }
        return pairs;
    }
}

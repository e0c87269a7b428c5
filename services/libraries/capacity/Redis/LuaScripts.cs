using StackExchange.Redis;

namespace Bus.Capacity.Redis;

/// <summary>
/// Every Lua script of the system, loaded once from the embedded <c>Scripts/*.lua</c> files and prepared with named
/// parameters (<c>@name</c>). A parameter of type <see cref="RedisKey"/> is sent as a key, so each script still names
/// its keys to Redis; every script touches only the keys of one worker (or one key), which share a hash tag, so each
/// runs unchanged on a Redis Cluster. StackExchange.Redis caches each script's SHA and answers NOSCRIPT by sending the
/// text again, so a call is one round trip.
/// </summary>
public static class LuaScripts
{
    /// <summary><c>reserve.lua</c>: one attempt's reservation on one worker, all or nothing.</summary>
    public static LuaScript Reserve { get; } = Load("reserve", withRecord: true);

    /// <summary><c>release.lua</c>: one attempt's reservation given back, and marked released.</summary>
    public static LuaScript Release { get; } = Load("release", withRecord: true);

    /// <summary><c>repair.lua</c>: reservations restored and removed as the database says, counters recounted.</summary>
    public static LuaScript Repair { get; } = Load("repair", withRecord: true);

    /// <summary><c>rebuild.lua</c>: a worker's reservations replaced by the database's, stamped with an epoch.</summary>
    public static LuaScript Rebuild { get; } = Load("rebuild", withRecord: true);

    /// <summary><c>register.lua</c>: a worker's whole registration written, its TTL armed.</summary>
    public static LuaScript Register { get; } = Load("register", withRecord: false);

    /// <summary><c>mark_unavailable.lua</c>: a service-unavailable report's window opened, or its time left read.</summary>
    public static LuaScript MarkUnavailable { get; } = Load("mark_unavailable", withRecord: false);

    /// <summary><c>claim_offers.lua</c>: the pending jobs no scheduler instance offered within the cooldown, marked offered.</summary>
    public static LuaScript ClaimOffers { get; } = Load("claim_offers", withRecord: false);

    /// <summary><c>lead_event_passes.lua</c>: the event-pass lease taken or renewed, or the time another's has left.</summary>
    public static LuaScript LeadEventPasses { get; } = Load("lead_event_passes", withRecord: false);

    /// <summary>
    /// A script's text, after <c>reservation_record.lua</c> when it reads or writes reservation records, so the record's
    /// Lua codec is written once.
    /// </summary>
    static LuaScript Load(string name, bool withRecord) =>
        LuaScript.Prepare(withRecord ? Text("reservation_record") + "\n" + Text(name) : Text(name));

    static string Text(string name)
    {
        using var stream = typeof(LuaScripts).Assembly.GetManifestResourceStream($"lua/{name}.lua")
            ?? throw new InvalidOperationException($"the Lua script {name}.lua is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

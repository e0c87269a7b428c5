namespace Bus.Capacity.Redis;

/// <summary>How services reach Redis. Bound from the <c>Redis</c> section; the address comes from <c>ConnectionStrings:Redis</c>.</summary>
public sealed class RedisOptions
{
    public const string Section = "Redis";

    /// <summary>
    /// StackExchange.Redis configuration string, e.g. <c>127.0.0.1:6390</c>, or several
    /// <c>host:port</c> pairs of a Redis Cluster. Set through <c>ConnectionStrings:Redis</c>.
    /// </summary>
    public string ConnectionString { get; set; } = "127.0.0.1:6390";

    /// <summary>Prefix of every key this system writes. Default <c>bus:</c>. Tests give each run its own.</summary>
    public string KeyPrefix { get; set; } = "bus:";

    /// <summary>
    /// After Redis fails to answer (connection lost, timeout), how long every caller in the process goes straight to
    /// what it does without Redis (<see cref="RedisOutagePolicy"/>: placement reserves on PostgreSQL alone, a release
    /// in Redis is skipped, ...) before it tries Redis again. Short, because Redis is the fast path; each try that
    /// fails costs little, since commands fail at once while the connection is down. Default 2 s.
    /// </summary>
    public TimeSpan OutageRetryInterval { get; set; } = TimeSpan.FromSeconds(2);
}

using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bus.Infrastructure.Redis;

/// <summary>
/// Whether this process currently treats Redis as down. Set by whoever sees a command fail for want of Redis;
/// for <see cref="RedisOptions.OutageRetryInterval"/> afterwards, callers with a PostgreSQL fallback go straight to
/// it. Cleared by the next command that succeeds. Logs each change once, not each failure.
/// </summary>
public sealed class RedisOutage(IOptions<RedisOptions> options, TimeProvider clock, ILogger<RedisOutage> logger)
{
    static readonly Meter Meter = new("Bus.Redis");
    static int _processDown;

    // 1 while this process is placing, or reading, on PostgreSQL alone. Alerting on it tells an operator Redis is
    // gone before placement gets slow enough for anyone to notice.
    static readonly ObservableGauge<int> FallbackActive = Meter.CreateObservableGauge("bus.redis.fallback_active",
        () => Volatile.Read(ref _processDown) > 0 ? 1 : 0, "1", "1 while this process treats Redis as down and uses PostgreSQL alone");

    long _retryAtTicks;
    int _down;

    /// <summary>True when an error means Redis could not be reached, as opposed to a bug or a script error.</summary>
    public static bool IsOutage(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || e.InnerException is RedisConnectionException or RedisTimeoutException
        || e is RedisServerException { Message: var m } && UnavailableReplies.Any(r => m.StartsWith(r, StringComparison.Ordinal));

    // A Redis that answers but cannot serve: still loading its data, its primary gone, a replica after a failover,
    // a cluster missing slots. As good as down for placement.
    static readonly string[] UnavailableReplies = ["LOADING", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN"];

    /// <summary>Whether Redis should be tried now: it is not known to be down, or the retry interval has passed.</summary>
    public bool ShouldTry => Volatile.Read(ref _down) == 0 || clock.GetUtcNow().UtcTicks >= Interlocked.Read(ref _retryAtTicks);

    public bool IsDown => Volatile.Read(ref _down) == 1;

    public void Failed(Exception e)
    {
        Interlocked.Exchange(ref _retryAtTicks, (clock.GetUtcNow() + options.Value.OutageRetryInterval).UtcTicks);
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            Interlocked.Increment(ref _processDown);
            logger.LogWarning("Redis is unreachable ({Error}); using PostgreSQL alone until it answers again", e.Message);
        }
    }

    public void Succeeded()
    {
        if (Volatile.Read(ref _down) == 1 && Interlocked.Exchange(ref _down, 0) == 1)
        {
            Interlocked.Decrement(ref _processDown);
            logger.LogInformation("Redis answers again; using it, each worker's counters rebuilt first where PostgreSQL moved past them");
        }
    }
}

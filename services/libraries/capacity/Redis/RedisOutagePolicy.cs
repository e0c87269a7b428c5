using Bus.Hosting.Resilience;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Bus.Capacity.Redis;

/// <summary>
/// The one rule for what a process does while Redis is down, used by every caller of Redis. A call site says only
/// what to do instead (a <c>fallback</c> such as a PostgreSQL path, an <c>onOutage</c>
/// answer such as empty, or skipping this round); the policy decides the rest, the same way for all of them:
/// <list type="bullet">
/// <item>what counts as an outage (<see cref="IsOutage"/>): a lost connection, a timeout, a Redis that answers but
/// cannot serve; any other error is a bug and passes through;</item>
/// <item>report: a warning when Redis is first seen down and an information line when it answers again, not one per
/// failure, and the <c>bus.redis.fallback_active</c> gauge at 1 meanwhile;</item>
/// <item>back off: for <see cref="RedisOptions.OutageRetryInterval"/> after a failure, calls go straight to their
/// <c>fallback</c> or <c>onOutage</c> without trying Redis, so nothing waits on a server known to be gone;</item>
/// <item>switch back: the first call after the interval tries Redis again, and the first that succeeds ends the outage.</item>
/// </list>
/// One instance per process (a singleton), so every caller in it sees the same outage.
/// </summary>
public sealed class RedisOutagePolicy(IOptions<RedisOptions> options, TimeProvider clock, ILogger<RedisOutagePolicy> logger)
{
    static readonly Meter Meter = new("Bus.Redis");
    static int _processDown;

    // 1 while this process is placing, or reading, without Redis. Alerting on it tells an operator Redis is gone
    // before placement gets slow enough for anyone to notice.
    static readonly ObservableGauge<int> FallbackActive = Meter.CreateObservableGauge("bus.redis.fallback_active",
        () => Volatile.Read(ref _processDown) > 0 ? 1 : 0, "1", "1 while this process treats Redis as down and uses PostgreSQL alone");

    long _retryAtTicks;
    int _down;

    /// <summary>True when an error means Redis could not be reached, as opposed to a bug or a script error.</summary>
    public static bool IsOutage(Exception e) => OutageExceptions.IsRedisOutage(e);

    /// <summary>Whether this process currently treats Redis as down.</summary>
    public bool IsDown => Volatile.Read(ref _down) == 1;

    /// <summary>
    /// Runs <paramref name="redis"/>, or <paramref name="fallback"/> when Redis is down: known down within the back-off,
    /// or failing now for want of Redis. Work <paramref name="redis"/> did before failing is the call site's to account for.
    /// </summary>
    public async Task<T> Run<T>(Func<Task<T>> redis, Func<Task<T>> fallback)
    {
        if (ShouldTry)
        {
            try
            {
                var result = await redis();
                Succeeded();
                return result;
            }
            catch (Exception e) when (IsOutage(e))
            {
                Failed(e);
            }
        }
        return await fallback();
    }

    /// <summary>Runs <paramref name="redis"/>, answering <paramref name="onOutage"/> when Redis is down.</summary>
    public Task<T> Run<T>(Func<Task<T>> redis, T onOutage) => Run(redis, fallback: () => Task.FromResult(onOutage));

    /// <summary>Runs <paramref name="redis"/>, or skips it when Redis is down. True when it ran.</summary>
    public Task<bool> Run(Func<Task> redis) => Run(async () =>
    {
        await redis();
        return true;
    }, onOutage: false);

    /// <summary>
    /// Sends a fire-and-forget command (<see cref="CommandFlags.FireAndForget"/>), or skips it when Redis is known
    /// down. Such a command reports no failure later, so only a refusal to send it counts as one.
    /// </summary>
    public void Send(Action redis)
    {
        if (!ShouldTry)
            return;
        try
        {
            redis();
        }
        catch (Exception e) when (IsOutage(e))
        {
            Failed(e);
        }
    }

    bool ShouldTry => Volatile.Read(ref _down) == 0 || clock.GetUtcNow().UtcTicks >= Interlocked.Read(ref _retryAtTicks);

    void Failed(Exception e)
    {
        Interlocked.Exchange(ref _retryAtTicks, (clock.GetUtcNow() + options.Value.OutageRetryInterval).UtcTicks);
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            Interlocked.Increment(ref _processDown);
            logger.LogWarning("Redis is unreachable ({Error}); working without it (on PostgreSQL where there is a fallback) until it answers again", e.Message);
        }
    }

    void Succeeded()
    {
        if (Volatile.Read(ref _down) == 1 && Interlocked.Exchange(ref _down, 0) == 1)
        {
            Interlocked.Decrement(ref _processDown);
            logger.LogInformation("Redis answers again; using it, each worker's counters rebuilt first where PostgreSQL moved past them");
        }
    }
}

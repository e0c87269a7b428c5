using System.Net.Sockets;
using Npgsql;
using StackExchange.Redis;

namespace Bus.Hosting.Resilience;

/// <summary>Which exceptions mean a server could not be reached, as opposed to a bug or a bad message.</summary>
public static class OutageExceptions
{
    public static bool IsOutage(Exception e) => e switch
    {
        NpgsqlException { IsTransient: true } => true,
        // 57P01 admin shutdown, 57P03 cannot connect now (starting up or shutting down).
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" } => true,
        SocketException or TimeoutException => true,
        _ when IsRedisOutage(e) => true,
        _ when e.GetType().Namespace?.StartsWith("RabbitMQ.Client", StringComparison.Ordinal) == true => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsOutage),
        _ => e.InnerException is { } inner && IsOutage(inner),
    };

    /// <summary>True when an error means Redis could not be reached, as opposed to a bug or a script error.</summary>
    public static bool IsRedisOutage(Exception e) => e is RedisConnectionException or RedisTimeoutException
        || e.InnerException is RedisConnectionException or RedisTimeoutException
        || e is RedisServerException { Message: var m } && UnavailableReplies.Any(r => m.StartsWith(r, StringComparison.Ordinal));

    // A Redis that answers but cannot serve: still loading its data, its primary gone, a replica after a failover,
    // a cluster missing slots. As good as down.
    static readonly string[] UnavailableReplies = ["LOADING", "MASTERDOWN", "READONLY", "CLUSTERDOWN", "TRYAGAIN"];
}

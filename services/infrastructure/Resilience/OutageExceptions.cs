using System.Net.Sockets;
using Bus.Infrastructure.Redis;
using Npgsql;

namespace Bus.Infrastructure.Resilience;

/// <summary>Which exceptions mean a server could not be reached, as opposed to a bug or a bad message.</summary>
public static class OutageExceptions
{
    public static bool IsOutage(Exception e) => e switch
    {
        NpgsqlException { IsTransient: true } => true,
        // 57P01 admin shutdown, 57P03 cannot connect now (starting up or shutting down).
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" } => true,
        SocketException or TimeoutException => true,
        _ when RedisOutagePolicy.IsOutage(e) => true,
        _ when e.GetType().Namespace?.StartsWith("RabbitMQ.Client", StringComparison.Ordinal) == true => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsOutage),
        _ => e.InnerException is { } inner && IsOutage(inner),
    };
}

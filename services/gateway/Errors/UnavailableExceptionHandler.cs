using System.Net.Sockets;
using Bus.Gateway.Limits;
using MassTransit;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace Bus.Gateway.Errors;

/// <summary>
/// A dependency the gateway cannot do without (PostgreSQL, RabbitMQ, Redis) that does not answer is not the client's
/// fault and not a bug: 503 with <c>Retry-After</c>, so clients back off and retry instead of seeing a 500.
/// </summary>
public sealed class UnavailableExceptionHandler(
    IProblemDetailsService problems, IOptions<LimitOptions> limits, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (Dependency(exception) is not { } dependency)
            return false;
        // The message only: connection errors carry no secrets, but a stack per failed request would flood the log.
        logger.LogWarning("{Dependency} unavailable for {Method} {Path}: {Message}", dependency, context.Request.Method, context.Request.Path, exception.Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = ((int)limits.Value.UnavailableRetryAfter.TotalSeconds).ToString();
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Temporarily unavailable.",
                Detail = $"{dependency} does not answer; retry after the number of seconds in Retry-After.",
            },
        });
    }

    static string? Dependency(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // A PostgresException is the server refusing a statement: a bug, unless the server is going away.
                case PostgresException p when !p.SqlState.StartsWith("08") && !p.SqlState.StartsWith("57P") && !p.SqlState.StartsWith("53"):
                    return null;
                case NpgsqlException:
                    return "The database";
                case RedisConnectionException or RedisTimeoutException:
                    return "Redis";
                case RabbitMqConnectionException:
                    return "The message broker";
                case SocketException or TimeoutException:
                    return "A backing service";
            }
        }
        return null;
    }
}

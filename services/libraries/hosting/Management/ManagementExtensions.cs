using System.Net;
using Bus.Hosting.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Bus.Hosting.Management;

/// <summary>
/// What an operator needs from every service, wired the same way in each: health checks, OpenTelemetry metrics and
/// traces, and one-line structured logs. The background services also get a small HTTP listener for them (the
/// management port); the gateway serves the same paths on its API address.
/// </summary>
public static class ManagementExtensions
{
    public static WebApplicationBuilder AddManagement(this WebApplicationBuilder builder, string serviceName, bool ownListener = true)
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"])
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        builder.AddTelemetry(serviceName);
        builder.AddStructuredLogs();
        if (ownListener)
            builder.ListenOnManagementPort();
        return builder;
    }

    /// <summary>
    /// <c>/health/live</c> (the process answers), <c>/health/ready</c> (its bus, PostgreSQL and Redis answer; JSON
    /// with one entry per check) and <c>/metrics</c> (Prometheus text). None needs an API key.
    /// </summary>
    public static WebApplication MapManagement(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("live"),
            ResponseWriter = HealthReportJson.Write,
        });
        // MassTransit registers its bus check with the "ready" tag; ours join it.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains("ready"),
            ResponseWriter = HealthReportJson.Write,
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>
    /// JSON lines outside Development, for a log shipper; one readable line with a timestamp in Development. Both
    /// carry scopes: the trace and span ids, and inside a job's scope (<see cref="JobLogScopes"/>) its jobId, attempt
    /// and workerId. <c>Logging:Console:FormatterName</c> (<c>json</c> or <c>simple</c>) chooses either in any
    /// environment.
    /// </summary>
    static void AddStructuredLogs(this WebApplicationBuilder builder)
    {
        var format = builder.Configuration["Logging:Console:FormatterName"]
            ?? (builder.Environment.IsDevelopment() ? ConsoleFormatterNames.Simple : ConsoleFormatterNames.Json);
        if (string.Equals(format, ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        else if (string.Equals(format, ConsoleFormatterNames.Simple, StringComparison.OrdinalIgnoreCase))
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        else
            throw new InvalidOperationException($"Logging:Console:FormatterName must be json or simple, not '{format}'.");
    }

    static void ListenOnManagementPort(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ManagementOptions.Section);
        var options = section.Get<ManagementOptions>() ?? new ManagementOptions();
        if (options.Port is < 0 or > 65535)
            throw new InvalidOperationException($"Management:Port must be 0 to 65535, not {options.Port}.");
        if (!IPAddress.TryParse(options.Address, out var address))
            throw new InvalidOperationException($"Management:Address must be an IP address, not '{options.Address}'.");
        builder.Services.AddOptions<ManagementOptions>().Bind(section);
        // Only this listener: a background service must not also open Kestrel's default port 5000.
        builder.WebHost.UseUrls();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address, options.Port));
    }
}

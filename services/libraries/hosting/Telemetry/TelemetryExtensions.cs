using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Bus.Hosting.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>Every meter of ours is named <c>Bus.&lt;Service&gt;</c>; one wildcard exports them all.</summary>
    public const string OurMeters = "Bus.*";

    /// <summary>
    /// OpenTelemetry for one service: metrics always (scraped at <c>/metrics</c>), traces only when an exporter is
    /// configured through the standard <c>OTEL_*</c> variables (<see cref="TelemetryOptions"/>), so an
    /// unobserved system pays nothing for spans. Every message a service sends or consumes that carries a job id
    /// tags its span with it (<see cref="JobSpanTagger"/>), so one job's spans can be found in any backend.
    /// </summary>
    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder, string serviceName)
    {
        var exporters = TelemetryOptions.FromEnvironment(Environment.GetEnvironmentVariable);
        var instance = builder.Configuration["Worker:Id"] ?? Environment.MachineName;
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: instance))
            .WithMetrics(metrics => metrics
                .AddMeter(OurMeters, "MassTransit", "Npgsql")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddPrometheusExporter());
        if (!exporters.Otlp)
        {
            TraceIdsForLogs.EnsureStarted();
            return builder;
        }

        telemetry.WithTracing(tracing =>
        {
            tracing
                .AddSource("MassTransit")
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/health") && !context.Request.Path.StartsWithSegments("/metrics"))
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddRedisInstrumentation();
            tracing.AddOtlpExporter();
        });
        builder.Services.AddConsumeObserver<JobSpanTagger>();
        builder.Services.AddSendObserver<JobSpanTagger>();
        builder.Services.AddPublishObserver<JobSpanTagger>();
        return builder;
    }
}

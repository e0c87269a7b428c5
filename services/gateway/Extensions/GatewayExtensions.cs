using System.Text.Json.Serialization;
using Bus.Gateway.Auth;
using Bus.Gateway.Events;
using Bus.Gateway.Jobs;
using Bus.Gateway.Sagas;
using Bus.Gateway.Stats;
using Bus.Infrastructure.Capacity;
using Bus.Infrastructure.Data;
using Bus.Infrastructure.Messaging;
using Bus.Infrastructure.Placement;
using Bus.Infrastructure.Redis;
using Microsoft.AspNetCore.Authentication;
using OpenTelemetry.Metrics;

namespace Bus.Gateway.Extensions;

public static class GatewayExtensions
{
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        builder.AddCapacity();
        builder.AddBus();
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<SagaStore>();
        builder.Services.AddSingleton<JobEventStore>();
        builder.Services.AddSingleton<JobEventFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobEventFeed>());
        // The scheduler's pool rules, to show each worker's pools: the same Placement:Pools must reach both services.
        builder.Services.AddWorkerPools();

        builder.Services.AddOptions<StatsOptions>()
            .BindConfiguration(StatsOptions.Section)
            .Validate(o => o.RefreshInterval > TimeSpan.Zero, "Stats:RefreshInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton<StatsSnapshots>();
        builder.Services.AddHostedService<StatsRefresher>();
        builder.Services.AddSingleton<JobStateGauges>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInstrumentation(sp => sp.GetRequiredService<JobStateGauges>()));

        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.Section)
            .Validate(o => o.ApiKeys.All(k => k.Key.Length >= 16 && k.Tenant.Length > 0),
                "Auth:ApiKeys: every key needs at least 16 characters and a tenant")
            .ValidateOnStart();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("admin", p => p.RequireRole(ApiKeyAuthenticationHandler.AdminRole));

        // Errors are application/problem+json (RFC 9457), including 401, 403 and 404 without a body of their own.
        builder.Services.AddProblemDetails();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        return builder;
    }
}

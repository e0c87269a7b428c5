using System.Text.Json.Serialization;
using Bus.Gateway.Auth;
using Bus.Gateway.Jobs;
using Bus.Gateway.Sagas;
using Bus.Gateway.Stats;
using Bus.Infrastructure.Capacity;
using Bus.Infrastructure.Data;
using Bus.Infrastructure.Messaging;
using Bus.Infrastructure.Placement;
using Bus.Infrastructure.Redis;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bus.Gateway.Extensions;

public static class GatewayExtensions
{
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        builder.AddCapacity();
        builder.AddBus();
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<SagaStore>();
        // The scheduler's pool rules, to show each worker's pools: the same Placement:Pools must reach both services.
        builder.Services.AddWorkerPools();

        builder.Services.AddOptions<StatsOptions>()
            .BindConfiguration(StatsOptions.Section)
            .Validate(o => o.RefreshInterval > TimeSpan.Zero, "Stats:RefreshInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton<StatsSnapshots>();
        builder.Services.AddHostedService<StatsRefresher>();

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

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), tags: ["live"])
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<RedisHealthCheck>("redis", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") });
        // MassTransit registers its bus check with the "ready" tag; ours join it.
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        return app;
    }
}

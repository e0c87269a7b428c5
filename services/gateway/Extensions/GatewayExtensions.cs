using System.Globalization;
using System.Security.Claims;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Bus.Capacity;
using Bus.Gateway.Auth;
using Bus.Gateway.Catalogue;
using Bus.Gateway.Errors;
using Bus.Gateway.Events;
using Bus.Gateway.Jobs;
using Bus.Gateway.Limits;
using Bus.Gateway.OpenApi;
using Bus.Gateway.Sagas;
using Bus.Gateway.Stats;
using Bus.Persistence.Catalogue;

using Bus.Hosting.Options;
using Bus.Hosting.Messaging;
using Bus.Gateway.Workers;

using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Bus.Gateway.Extensions;

public static class GatewayExtensions
{
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        builder.AddCapacity();
        builder.AddBus(x => x.AddRequestClient<Contracts.ExplainPlacement>(QueueNames.ExplainPlacementAddress));
        builder.Services.AddServiceCatalogue();
        builder.Services.AddSingleton<CatalogueWriter>();
        builder.Services.AddSingleton<ICatalogueSeeder, CatalogueSeed>();
        builder.Services.AddSingleton<IValidateOptions<CatalogueOptions>>(new ValidateOptions<CatalogueOptions>(
            null, o => !CatalogueSeed.Problems(o).Any(), "Catalogue:Seed names a service a submission could not use"));
        builder.Services.AddSingleton<JobStore>();
        builder.Services.AddSingleton<JobAttempts>();
        builder.Services.AddSingleton<JobRequestClaims>();
        builder.Services.AddSingleton<SentSubmissions>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SentSubmissions>());
        builder.Services.AddSingleton<SubmitRelay>();
        builder.Services.AddSingleton<SagaStore>();
        builder.Services.AddApiDocument();
        builder.Services.AddSingleton<JobEventStore>();
        builder.Services.AddSingleton<JobEventFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<JobEventFeed>());
        // The scheduler's pool rules, to show each worker's pools: the same Placement:Pools must reach both services.
        builder.Services.AddWorkerPools();

        builder.Services.AddOptions<StatsOptions>()
            .BindConfiguration(StatsOptions.Section)
            .Validate(o => o.RefreshInterval > TimeSpan.Zero, "Stats:RefreshInterval must be positive")
            .Validate(o => o.FullCountInterval > TimeSpan.Zero, "Stats:FullCountInterval must be positive")
            .ValidateOnStart();
        builder.Services.AddSingleton<FinishedJobCounts>();
        builder.Services.AddSingleton<StatsSnapshots>();
        builder.Services.AddSingleton<StatsHistory>();
        builder.Services.AddHostedService<StatsRefresher>();
        builder.Services.AddSingleton<JobStateGauges>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(m => m.AddInstrumentation(sp => sp.GetRequiredService<JobStateGauges>()));

        builder.Services.AddOptions<ApiKeyOptions>()
            .BindConfiguration(ApiKeyOptions.Section)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApiKeyOptions>, ApiKeyOptionsValidation>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy("admin", p => p.RequireRole(ApiKeyAuthenticationHandler.AdminRole));

        builder.AddHostileInputDefences();
        return builder;
    }

    /// <summary>
    /// Everything that keeps a client's mistakes (or attacks) 4xx: strict JSON, problem+json for every refusal in
    /// every environment, 503 for an unreachable dependency, the request-rate limit per key and the tenant quota.
    /// </summary>
    static void AddHostileInputDefences(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LimitOptions>()
            .BindConfiguration(LimitOptions.Section)
            .Validate(o => o.MaxActiveJobsPerTenant > 0 && o.MaxActiveJobs.Values.All(v => v > 0), "Limits: active-job quotas must be positive")
            .Validate(o => o.RequestsPerSecond > 0 && o.RequestBurst > 0, "Limits:RequestsPerSecond and RequestBurst must be positive")
            .Validate(o => o.MaxRequestBodyBytes >= 1024, "Limits:MaxRequestBodyBytes must be at least 1024")
            .Validate(o => o.MaxBatchRequestBodyBytes >= 1024, "Limits:MaxBatchRequestBodyBytes must be at least 1024")
            .Validate(o => o.QuotaCountMaxAge >= TimeSpan.Zero, "Limits:QuotaCountMaxAge must not be negative")
            .ValidateOnStart()
            .KeepLastKnownGood();
        builder.Services.AddSingleton<ActiveJobEstimates>();
        builder.Services.AddSingleton<TenantQuota>();

        // Errors are application/problem+json (RFC 9457), including 401, 403 and 404 without a body of their own.
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Detail ??= c.ProblemDetails.Status switch
        {
            StatusCodes.Status401Unauthorized => "Send an API key: Authorization: Bearer <key>, or X-Api-Key: <key>.",
            StatusCodes.Status403Forbidden => "This call needs an admin key.",
            StatusCodes.Status404NotFound => "No such resource, or not one this key's tenant can see.",
            StatusCodes.Status405MethodNotAllowed => "This path does not take this method; see docs/api.md.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON, with Content-Type: application/json.",
            _ => null,
        });
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        builder.Services.AddExceptionHandler<UnavailableExceptionHandler>();
        // Off by default outside Development, where a bad body would then get an empty 400: thrown, the handler
        // above answers it with the field that was wrong, the same in every environment.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            var json = o.SerializerOptions;
            json.Converters.Add(new JsonStringEnumConverter());
            // A field the request does not declare is a mistake to report (a typo would otherwise run with defaults),
            // and so is a field given twice or a number sent as a string. New request fields need only their declaration.
            json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.AllowDuplicateProperties = false;
            json.NumberHandling = JsonNumberHandling.Strict;
        });

        builder.Services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                // Unauthenticated requests get their 401 from authorization; only a key's requests are counted.
                if (context.User.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) is not { } keyId)
                    return RateLimitPartition.GetNoLimiter("");
                var limits = context.RequestServices.GetRequiredService<LastKnownGood<LimitOptions>>().CurrentValue;
                return RateLimitPartition.GetTokenBucketLimiter(keyId, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limits.RequestBurst,
                    TokensPerPeriod = limits.RequestsPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                });
            });
            o.OnRejected = async (rejected, cancellationToken) =>
            {
                var context = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails =
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "Too many requests",
                        Detail = "This API key is over its request rate (Limits:RequestsPerSecond, Limits:RequestBurst); retry after Retry-After seconds.",
                    },
                });
            };
        });
    }
}

using System.Security.Claims;
using Bus.Gateway.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Bus.Gateway.Apis;

/// <summary>Who the caller's key is: its tenant, and whether it may make admin calls (the dashboard shows Drain then).</summary>
public sealed record CallerView(string Tenant, bool Admin);

public static class MeApi
{
    public static IEndpointRouteBuilder MapMeApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/me", (ClaimsPrincipal user) => TypedResults.Ok(new CallerView(user.Tenant(), user.IsAdmin())))
            .RequireAuthorization();
        return app;
    }
}

using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Auth;

/// <summary>
/// Accepts <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c>. The principal carries the
/// key's tenant, and the <c>admin</c> role when the key has it. Keys are compared by their SHA-256 in constant time,
/// so neither the configuration nor response timing gives a key away.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    IOptionsMonitor<ApiKeyOptions> keys,
    ILoggerFactory logger,
    UrlEncoder encoder) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string TenantClaim = "tenant";
    public const string AdminRole = "admin";
    /// <summary>The key's non-secret id (<see cref="ApiKeyHash.Id"/>): what request rates are counted by.</summary>
    public const string KeyIdClaim = "key";
    /// <summary>The header that may carry the key instead of <c>Authorization</c>.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey();
        if (presented is null)
            return Task.FromResult(AuthenticateResult.NoResult());

        var hash = ApiKeyHash.Of(presented);
        var key = keys.CurrentValue.ApiKeys.FirstOrDefault(k => CryptographicOperations.FixedTimeEquals(k.Hash(), hash));
        if (key is null)
            return Task.FromResult(AuthenticateResult.Fail("unknown API key"));

        List<Claim> claims = [new(TenantClaim, key.Tenant), new(KeyIdClaim, ApiKeyHash.Id(hash))];
        if (key.Admin)
            claims.Add(new Claim(ClaimTypes.Role, AdminRole));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    string? PresentedKey()
    {
        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return authorization["Bearer ".Length..].Trim();
        var header = Request.Headers[ApiKeyHeader].ToString();
        return header.Length > 0 ? header : null;
    }

}

public static class TenantExtensions
{
    /// <summary>The tenant of an authenticated caller.</summary>
    public static string Tenant(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim)
        ?? throw new InvalidOperationException("an authenticated caller always has a tenant");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(ApiKeyAuthenticationHandler.AdminRole);
}

namespace Bus.Gateway.Auth;

/// <summary>The API keys the gateway accepts. Bound from the <c>Auth</c> section.</summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// Each key, the tenant it acts for, and whether it may call admin-only endpoints. Supply real keys through
    /// environment variables or a secret store (<c>Auth__ApiKeys__0__Key=...</c>), never in a committed file;
    /// <c>appsettings.Development.json</c> holds the development keys only.
    /// </summary>
    public List<ApiKey> ApiKeys { get; set; } = [];
}

/// <summary>One API key.</summary>
public sealed class ApiKey
{
    /// <summary>The secret the client sends. Never logged.</summary>
    public string Key { get; set; } = "";

    /// <summary>The tenant whose jobs this key sees and submits.</summary>
    public string Tenant { get; set; } = "";

    /// <summary>Whether this key may call admin-only endpoints.</summary>
    public bool Admin { get; set; }
}

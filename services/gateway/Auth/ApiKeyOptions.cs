namespace Bus.Gateway.Auth;

/// <summary>The API keys the gateway accepts. Bound from the <c>Auth</c> section.</summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// Each key, the tenant it acts for, and whether it may call admin-only endpoints. A tenant may have several keys
    /// (rotate by adding the new one, moving clients, then removing the old one). Supply real keys as hashes through
    /// environment variables or a secret store (<c>Auth__ApiKeys__0__KeyHash=...</c>), never in a committed file;
    /// <c>appsettings.Development.json</c> holds the development keys only, and outside the Development environment
    /// the gateway refuses to start if any of them is configured.
    /// </summary>
    public List<ApiKey> ApiKeys { get; set; } = [];
}

/// <summary>One API key: give either <see cref="KeyHash"/> (preferred) or <see cref="Key"/>.</summary>
public sealed class ApiKey
{
    /// <summary>
    /// The SHA-256 of the key, 64 hexadecimal digits (either case). <c>./bus new-key</c> (or the gateway's
    /// <c>--new-api-key</c> switch) prints a fresh key and its hash. The gateway then never holds the key itself.
    /// </summary>
    public string KeyHash { get; set; } = "";

    /// <summary>The key in plain text, at least 16 characters; for development only. Never logged.</summary>
    public string Key { get; set; } = "";

    /// <summary>The tenant whose jobs this key sees and submits.</summary>
    public string Tenant { get; set; } = "";

    /// <summary>Whether this key may call admin-only endpoints.</summary>
    public bool Admin { get; set; }

    /// <summary>The SHA-256 this key is matched by, from <see cref="KeyHash"/> or else computed from <see cref="Key"/>.</summary>
    public byte[] Hash() => KeyHash.Length > 0 ? Convert.FromHexString(KeyHash) : ApiKeyHash.Of(Key);
}

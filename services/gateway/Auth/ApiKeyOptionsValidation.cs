using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Auth;

/// <summary>
/// Checks the configured keys at start-up: each has a tenant and exactly one of a well-formed hash or a long enough
/// key; and outside Development none of them is one of the committed development keys (those in
/// <c>appsettings.Development.json</c> next to the gateway), since anyone who has read the repository knows them.
/// </summary>
public sealed class ApiKeyOptionsValidation(IHostEnvironment environment) : IValidateOptions<ApiKeyOptions>
{
    const string DevelopmentSettings = "appsettings.Development.json";

    public ValidateOptionsResult Validate(string? name, ApiKeyOptions options)
    {
        var failures = new List<string>();
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            if (key.Tenant.Length == 0)
                failures.Add($"Auth:ApiKeys:{i} needs a Tenant.");
            if (key.KeyHash.Length > 0 == key.Key.Length > 0)
                failures.Add($"Auth:ApiKeys:{i} needs exactly one of KeyHash or Key.");
            else if (key.KeyHash.Length > 0 && (key.KeyHash.Length != 64 || !key.KeyHash.All(char.IsAsciiHexDigit)))
                failures.Add($"Auth:ApiKeys:{i}:KeyHash must be a SHA-256 in 64 hexadecimal digits.");
            else if (key.Key.Length is > 0 and < 16)
                failures.Add($"Auth:ApiKeys:{i}:Key needs at least 16 characters.");
        }

        if (failures.Count == 0 && !environment.IsDevelopment())
        {
            var development = DevelopmentHashes();
            for (var i = 0; i < options.ApiKeys.Count; i++)
                if (development.Contains(Convert.ToHexStringLower(options.ApiKeys[i].Hash())))
                    failures.Add($"Auth:ApiKeys:{i} is a development key from {DevelopmentSettings}; " +
                                 $"the {environment.EnvironmentName} environment must be given keys of its own.");
        }
        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }

    HashSet<string> DevelopmentHashes()
    {
        var path = Path.Combine(environment.ContentRootPath, DevelopmentSettings);
        if (!File.Exists(path))
            return [];
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (!document.RootElement.TryGetProperty("Auth", out var auth) || !auth.TryGetProperty("ApiKeys", out var keys))
            return [];
        return keys.EnumerateArray()
            .Select(k => k.TryGetProperty("Key", out var key) ? ApiKeyHash.Hex(key.GetString() ?? "")
                : k.TryGetProperty("KeyHash", out var hash) ? (hash.GetString() ?? "").ToLowerInvariant() : "")
            .Where(h => h.Length > 0)
            .ToHashSet();
    }
}

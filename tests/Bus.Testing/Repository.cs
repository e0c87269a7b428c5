using System.Text.Json;

namespace Bus.Testing;

/// <summary>
/// Facts of this checkout that the tests and the benchmarks share: where the repository is, and the development API
/// keys. The keys are written in one place, the gateway's <c>appsettings.Development.json</c> (the gateway reads them
/// from there in Development, and <c>./bus</c> too), so a changed key cannot leave a test or a benchmark behind.
/// Compiled into each test and bench project as a linked file.
/// </summary>
public static class Repository
{
    /// <summary>The folder holding <c>Bus.sln</c>, found above the running assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The development tenant's administrator key.</summary>
    public static string AdminKey => DevelopmentKey(tenant: "dev", admin: true);

    /// <summary>The development tenant's ordinary key.</summary>
    public static string UserKey => DevelopmentKey(tenant: "dev", admin: false);

    /// <summary>An ordinary key of a second tenant, for tests of what one tenant may see of another.</summary>
    public static string OtherTenantKey => DevelopmentKey(tenant: "acme", admin: false);

    static readonly Lazy<JsonElement[]> DevelopmentKeys = new(() =>
    {
        var file = Path.Combine(Root, "services", "gateway", "appsettings.Development.json");
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        return [.. document.RootElement.GetProperty("Auth").GetProperty("ApiKeys").EnumerateArray().Select(k => k.Clone())];
    });

    static string DevelopmentKey(string tenant, bool admin) =>
        DevelopmentKeys.Value
            .Where(k => k.GetProperty("Tenant").GetString() == tenant && k.GetProperty("Admin").GetBoolean() == admin)
            .Select(k => k.GetProperty("Key").GetString())
            .FirstOrDefault(k => k is not null)
        ?? throw new InvalidOperationException($"appsettings.Development.json has no {(admin ? "admin" : "user")} key for tenant {tenant}");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Bus.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"Bus.sln not found above {AppContext.BaseDirectory}");
    }
}

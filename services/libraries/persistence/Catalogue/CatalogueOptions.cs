namespace Bus.Persistence.Catalogue;

/// <summary>
/// The service catalogue: the services a submission may name. Its source is the <c>service_catalogue</c> table; every
/// gateway and scheduler keeps a copy in memory and refreshes it in the background (section <c>Catalogue</c>).
/// </summary>
public sealed class CatalogueOptions
{
    public const string Section = "Catalogue";

    /// <summary>How often the in-memory copy is read again from the table. A change made through another gateway shows
    /// here within this long; one made through this gateway shows at once.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The local file each successful read is written to, and the copy a cold start uses while the table cannot be
    /// read. Relative paths are taken from the working directory; empty turns the file off.
    /// </summary>
    public string CacheFile { get; set; } = "catalogue-cache.json";

    /// <summary>
    /// Services (name to description) the gateway adds to the table at start when they are missing: adding a service
    /// is one line here. Read only by the gateway, the table's owner; a service removed through the admin endpoint but
    /// still listed here comes back at the gateway's next start.
    /// </summary>
    public Dictionary<string, string> Seed { get; set; } = [];
}

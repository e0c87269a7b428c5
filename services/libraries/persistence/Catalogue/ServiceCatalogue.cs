using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Persistence.Catalogue;

/// <summary>One known service.</summary>
public sealed record CatalogueEntry(string Service, string Description);

/// <summary>Where the copy in memory came from: the table, or the local file while the table could not be read.</summary>
public enum CatalogueSource
{
    Table,
    CacheFile,
}

/// <summary>
/// This process's copy of the service catalogue. Readers take it without a lock or a query; <see cref="Refresh"/>
/// (the background refresher, or a write through this gateway) replaces it by swapping one reference. Every good
/// read of the table is written to <see cref="CatalogueOptions.CacheFile"/>, so a process that starts while
/// PostgreSQL is unreachable still knows the services from that file. In the table's owner (the gateway) the first
/// read adds the configured seed before it reads (<see cref="ICatalogueSeeder"/>), so no request ever sees the table
/// before its defaults are in.
/// </summary>
public sealed class ServiceCatalogue(
    NpgsqlDataSource dataSource, IOptions<CatalogueOptions> options, TimeProvider clock, ILogger<ServiceCatalogue> logger,
    ICatalogueSeeder? seeder = null)
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    sealed record Copy(IReadOnlyList<CatalogueEntry> Entries, CatalogueSource Source, DateTimeOffset ReadAt);

    volatile Copy? _copy;
    volatile bool _seeded = seeder is null;

    /// <summary>The known services, ordered by name; empty before anything was loaded.</summary>
    public IReadOnlyList<CatalogueEntry> Entries => _copy?.Entries ?? [];

    /// <summary>Where the current copy came from, and when it was read; null before anything was loaded.</summary>
    public (CatalogueSource Source, DateTimeOffset ReadAt)? Origin => _copy is { } c ? (c.Source, c.ReadAt) : null;

    /// <summary>
    /// The known services. Before a copy exists (a cold start with no cache file), reads the table now; should that
    /// fail, its exception reaches the caller (a 503 for a request), since no answer would be a guess.
    /// </summary>
    public async ValueTask<IReadOnlyList<CatalogueEntry>> Current(CancellationToken cancellationToken)
    {
        if (_copy is { } copy)
            return copy.Entries;
        await Refresh(cancellationToken);
        return Entries;
    }

    /// <summary>Reads the table into memory and writes the cache file.</summary>
    public async Task Refresh(CancellationToken cancellationToken)
    {
        if (!_seeded)
        {
            await seeder!.Seed(cancellationToken); // idempotent: two first reads at once may both add it
            _seeded = true;
        }
        var entries = new List<CatalogueEntry>();
        await using (var command = dataSource.CreateCommand("SELECT service, description FROM service_catalogue ORDER BY service"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            while (await reader.ReadAsync(cancellationToken))
                entries.Add(new CatalogueEntry(reader.GetString(0), reader.GetString(1)));
        _copy = new Copy(entries, CatalogueSource.Table, clock.GetUtcNow());
        await WriteCacheFile(entries, cancellationToken);
    }

    /// <summary>Loads the cache file, if there is one and no copy was read from the table yet. False when there is none.</summary>
    public async Task<bool> LoadCacheFile(CancellationToken cancellationToken)
    {
        var path = options.Value.CacheFile;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
            return false;
        try
        {
            await using var file = File.OpenRead(path);
            var entries = await JsonSerializer.DeserializeAsync<List<CatalogueEntry>>(file, Json, cancellationToken) ?? [];
            if (_copy is null)
                _copy = new Copy(entries, CatalogueSource.CacheFile, File.GetLastWriteTimeUtc(path));
            return true;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("The catalogue cache file {Path} could not be read: {Message}", path, e.Message);
            return false;
        }
    }

    async Task WriteCacheFile(IReadOnlyList<CatalogueEntry> entries, CancellationToken cancellationToken)
    {
        var path = options.Value.CacheFile;
        if (string.IsNullOrEmpty(path))
            return;
        try
        {
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            // Written aside and renamed over, so a reader (another process sharing the file) never sees half of it.
            var temporary = $"{full}.{Environment.ProcessId}.tmp";
            await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(entries, Json), cancellationToken);
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The copy in memory is good; only the next cold start loses its fallback.
            logger.LogWarning("The catalogue cache file {Path} could not be written: {Message}", path, e.Message);
        }
    }
}

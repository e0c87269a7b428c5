using Bus.Gateway.Jobs;
using Bus.Infrastructure.Catalogue;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Gateway.Catalogue;

/// <summary>
/// The gateway owns <c>service_catalogue</c>: it adds the configured seed (<see cref="CatalogueOptions.Seed"/>) at
/// start and makes the admin endpoints' changes. Each change refreshes this gateway's copy at once; other gateways and
/// the schedulers see it at their next refresh.
/// </summary>
public sealed class CatalogueWriter(NpgsqlDataSource dataSource, ServiceCatalogue catalogue, IOptions<CatalogueOptions> options) : ICatalogueSeeder
{
    /// <summary>The seed's services, added when missing; an existing entry (and its description) is left as it is.</summary>
    public async Task Seed(CancellationToken cancellationToken)
    {
        var seed = options.Value.Seed;
        if (seed.Count == 0)
            return;
        await using var command = dataSource.CreateCommand("""
            INSERT INTO service_catalogue (service, description)
            SELECT * FROM unnest($1::text[], $2::text[])
            ON CONFLICT (service) DO NOTHING
            """);
        command.Parameters.AddWithValue(seed.Keys.ToArray());
        command.Parameters.AddWithValue(seed.Values.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Adds the service, or changes its description. True when it was new.</summary>
    public async Task<bool> Put(string service, string description, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO service_catalogue (service, description) VALUES ($1, $2)
            ON CONFLICT (service) DO UPDATE SET description = excluded.description
            RETURNING (xmax = 0)
            """);
        command.Parameters.AddWithValue(service);
        command.Parameters.AddWithValue(description);
        var created = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
        await catalogue.Refresh(cancellationToken);
        return created;
    }

    /// <summary>Removes the service; jobs already submitted for it are not touched. False when it was not there.</summary>
    public async Task<bool> Delete(string service, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM service_catalogue WHERE service = $1");
        command.Parameters.AddWithValue(service);
        var deleted = await command.ExecuteNonQueryAsync(cancellationToken) == 1;
        await catalogue.Refresh(cancellationToken);
        return deleted;
    }

    /// <summary>The seed's problems, for validation at start: every name must be one a submission could use.</summary>
    public static IEnumerable<string> SeedProblems(CatalogueOptions o) => o.Seed
        .Where(s => !SubmitJobValidator.IsService(s.Key) || s.Value.Length > ServicesApiLimits.MaxDescriptionLength)
        .Select(s => $"Catalogue:Seed:{s.Key} is not a valid service name, or its description is longer than {ServicesApiLimits.MaxDescriptionLength}");
}

/// <summary>Limits of the catalogue's admin endpoints.</summary>
public static class ServicesApiLimits
{
    public const int MaxDescriptionLength = 512;
}

using Bus.Gateway.Jobs;
using Bus.Persistence.Catalogue;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Bus.Gateway.Catalogue;

/// <summary>
/// Adds <see cref="CatalogueOptions.Seed"/> to <c>service_catalogue</c> before this gateway first reads it. Only
/// missing services are added: an entry already there keeps its description, and one removed by an admin comes back
/// while it stays in the seed.
/// </summary>
public sealed class CatalogueSeed(NpgsqlDataSource dataSource, IOptions<CatalogueOptions> options) : ICatalogueSeeder
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

    /// <summary>The seed's problems, for validation at start: every name must be one a submission could use.</summary>
    public static IEnumerable<string> Problems(CatalogueOptions o) => o.Seed
        .Where(s => !SubmitJobValidator.IsService(s.Key) || s.Value.Length > ServicesApiLimits.MaxDescriptionLength)
        .Select(s => $"Catalogue:Seed:{s.Key} is not a valid service name, or its description is longer than {ServicesApiLimits.MaxDescriptionLength}");
}

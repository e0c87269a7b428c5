using Bus.Persistence.Catalogue;
using Npgsql;

namespace Bus.Gateway.Catalogue;

/// <summary>
/// The gateway owns <c>service_catalogue</c>: this makes the admin endpoints' changes (<see cref="CatalogueSeed"/> adds
/// the configured defaults). Each change refreshes this gateway's copy at once; other gateways and the schedulers see
/// it at their next refresh.
/// </summary>
public sealed class CatalogueWriter(NpgsqlDataSource dataSource, ServiceCatalogue catalogue)
{
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
}

/// <summary>Limits of the catalogue's admin endpoints.</summary>
public static class ServicesApiLimits
{
    public const int MaxDescriptionLength = 512;
}

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bus.Persistence.Catalogue;

/// <summary>
/// Keeps <see cref="ServiceCatalogue"/> current: loads the cache file at start (so a cold start knows the services
/// even while PostgreSQL is unreachable), then reads the table every <see cref="CatalogueOptions.RefreshInterval"/>.
/// A failed read keeps the copy it has.
/// </summary>
public sealed class ServiceCatalogueRefresher(
    ServiceCatalogue catalogue,
    IOptions<CatalogueOptions> options,
    TimeProvider clock,
    ILogger<ServiceCatalogueRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (await catalogue.LoadCacheFile(stoppingToken))
            logger.LogInformation("Service catalogue loaded from the cache file: {Services}", string.Join(", ", catalogue.Entries.Select(e => e.Service)));
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await catalogue.Refresh(stoppingToken);
                if (failing)
                    logger.LogInformation("Service catalogue read from the table again");
                failing = false;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                if (!failing)
                    logger.LogWarning("Reading the service catalogue failed; keeping the copy from {Origin}: {Message}",
                        catalogue.Origin?.Source.ToString() ?? "nowhere (none yet)", e.Message);
                failing = true;
            }
            try
            {
                await Task.Delay(options.Value.RefreshInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}

/// <summary>Adds the configured services to the catalogue's table; implemented by the table's owner.</summary>
public interface ICatalogueSeeder
{
    Task Seed(CancellationToken cancellationToken);
}

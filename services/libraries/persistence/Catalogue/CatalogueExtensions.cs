using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Bus.Persistence.Catalogue;

public static class CatalogueExtensions
{
    /// <summary>The in-memory service catalogue and its background refresher (gateway and scheduler).</summary>
    public static IServiceCollection AddServiceCatalogue(this IServiceCollection services)
    {
        services.AddOptions<CatalogueOptions>()
            .BindConfiguration(CatalogueOptions.Section)
            .Validate(o => o.RefreshInterval > TimeSpan.Zero, "Catalogue:RefreshInterval must be positive")
            .ValidateOnStart();
        services.TryAddSingleton<ServiceCatalogue>();
        services.AddHostedService<ServiceCatalogueRefresher>();
        return services;
    }
}

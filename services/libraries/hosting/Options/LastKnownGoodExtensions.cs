using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Bus.Hosting.Options;

public static class LastKnownGoodExtensions
{
    /// <summary>
    /// Registers <see cref="LastKnownGood{TOptions}"/> for these (default-named) options, so their readers keep the last
    /// valid value through a reload that fails validation. Readers take <see cref="LastKnownGood{TOptions}"/> instead of
    /// <see cref="IOptionsMonitor{TOptions}"/>.
    /// </summary>
    public static OptionsBuilder<TOptions> KeepLastKnownGood<TOptions>(this OptionsBuilder<TOptions> options) where TOptions : class
    {
        options.Services.TryAddSingleton<LastKnownGood<TOptions>>();
        return options;
    }
}

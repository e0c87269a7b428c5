using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus.Hosting.Options;

/// <summary>
/// Reloadable options as their readers should see them: the current value, or, after a reload that fails the options'
/// own validation, the last value that passed. A typo in <c>appsettings.json</c> then never makes placement, the
/// pending passes or the gateway's limits throw; the refused reload is logged once, naming what is wrong, and ignored
/// until a valid one replaces it. Register it with <see cref="LastKnownGoodExtensions.KeepLastKnownGood{TOptions}"/>.
/// </summary>
/// <remarks>
/// The validation is the one registered with the options (<c>Validate(...)</c>, <see cref="IValidateOptions{TOptions}"/>),
/// which <see cref="IOptionsMonitor{TOptions}"/> runs again at every reload and then throws from
/// <see cref="IOptionsMonitor{TOptions}.CurrentValue"/> until the configuration is fixed. At start
/// <c>ValidateOnStart</c> refuses invalid options, so there is a last valid value before the first reload.
/// </remarks>
public sealed class LastKnownGood<TOptions>(IOptionsMonitor<TOptions> monitor, ILogger<LastKnownGood<TOptions>> logger)
    where TOptions : class
{
    // One reference each, swapped whole: readers on any thread see a whole options instance.
    volatile TOptions? _lastGood;
    string? _refused;

    /// <summary>Options that never change, for tools and tests that build a reader without configuration.</summary>
    public static LastKnownGood<TOptions> Of(TOptions value) =>
        new(new FixedMonitor(value), NullLogger<LastKnownGood<TOptions>>.Instance);

    /// <summary>The current options, or the last valid ones while the configuration fails validation.</summary>
    /// <exception cref="OptionsValidationException">The options have never been valid.</exception>
    public TOptions CurrentValue
    {
        get
        {
            try
            {
                var current = monitor.CurrentValue;
                _lastGood = current;
                Volatile.Write(ref _refused, null);
                return current;
            }
            catch (OptionsValidationException e) when (_lastGood is { } lastGood)
            {
                // Every read during a bad reload lands here; only the first sight of each set of failures is logged.
                var failures = string.Join("; ", e.Failures);
                if (Interlocked.Exchange(ref _refused, failures) != failures)
                    logger.LogWarning("{Options} from the reloaded configuration are invalid, keeping the previous ones: {Failures}",
                        typeof(TOptions).Name, failures);
                return lastGood;
            }
        }
    }

    sealed class FixedMonitor(TOptions value) : IOptionsMonitor<TOptions>
    {
        public TOptions CurrentValue => value;
        public TOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<TOptions, string?> listener) => null;
    }
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bus.Infrastructure.Placement;

/// <summary>
/// The pools of the current <see cref="WorkerPoolsOptions"/>, for a service that shows pools rather than places by
/// them (the gateway). Compiled once per configuration change. A reload that fails validation is logged and ignored
/// and the last valid pools stay in force, as they do in the scheduler's placement snapshots, so what is shown is
/// what placement uses.
/// </summary>
public sealed class ConfiguredPools(IOptionsMonitor<WorkerPoolsOptions> options, ILogger<ConfiguredPools> logger)
{
    // One reference, swapped whole: concurrent readers at worst compile the same options twice.
    volatile Compiled? _compiled;
    volatile string? _invalid;

    public PoolSet Current
    {
        get
        {
            WorkerPoolsOptions settings;
            try
            {
                settings = options.CurrentValue;
            }
            catch (OptionsValidationException e) when (_compiled is { } lastGood)
            {
                var problems = string.Join("; ", e.Failures);
                if (problems != _invalid)
                    logger.LogWarning("Placement pools are invalid, keeping the previous ones: {Problems}", problems);
                _invalid = problems;
                return lastGood.Pools;
            }
            _invalid = null;
            if (_compiled is { } compiled && ReferenceEquals(compiled.Options, settings))
                return compiled.Pools;
            var pools = PoolSet.Compile(settings.Pools);
            _compiled = new Compiled(settings, pools);
            return pools;
        }
    }

    sealed record Compiled(WorkerPoolsOptions Options, PoolSet Pools);
}

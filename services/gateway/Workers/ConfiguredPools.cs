using Bus.Capacity.Pools;
using Bus.Hosting.Options;

namespace Bus.Gateway.Workers;

/// <summary>
/// The pools of the current <see cref="WorkerPoolsOptions"/>, for a service that shows pools rather than places by
/// them (the gateway). Compiled once per configuration change. The options are read through
/// <see cref="LastKnownGood{TOptions}"/>, as the scheduler's placement reads its own: a reload that fails validation
/// is logged and ignored and the last valid pools stay in force, so what is shown is what placement uses.
/// </summary>
public sealed class ConfiguredPools(LastKnownGood<WorkerPoolsOptions> options)
{
    // One reference, swapped whole: concurrent readers at worst compile the same options twice.
    volatile Compiled? _compiled;

    public PoolSet Current
    {
        get
        {
            var settings = options.CurrentValue;
            if (_compiled is { } compiled && ReferenceEquals(compiled.Options, settings))
                return compiled.Pools;
            var pools = PoolSet.Compile(settings.Pools);
            _compiled = new Compiled(settings, pools);
            return pools;
        }
    }

    sealed record Compiled(WorkerPoolsOptions Options, PoolSet Pools);
}

namespace Bus.Capacity.Pools;

/// <summary>
/// The worker pools, from <c>Placement:Pools</c>. The scheduler places by them and the gateway shows each worker's
/// pools, so both services must be given the same list (see <c>docs/placement.md</c>); other services ignore it. The
/// scheduler's <c>PlacementOptions</c> extends this class with its own settings from the same section, which the
/// gateway ignores.
/// </summary>
public class WorkerPoolsOptions
{
    public const string Section = "Placement";

    /// <summary>
    /// Worker pools, in order of preference. A worker belongs to every pool whose rules it matches; workers matching
    /// none form the implicit pool <c>default</c>, tried last. A job may use the pools whose rules admit its service and
    /// language (and always <c>default</c>); its <c>constraints.pool</c> moves that pool to the front. Reloaded without
    /// a restart; a reload that is invalid (see <see cref="PoolSet.Problem"/>) is ignored. Default: none, so every
    /// worker is in <c>default</c>.
    /// </summary>
    public List<PoolOptions> Pools { get; set; } = [];
}

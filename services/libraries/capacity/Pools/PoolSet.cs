using System.Collections.Frozen;
using Bus.Capacity.Workers;

namespace Bus.Capacity.Pools;

/// <summary>A pool compiled from <see cref="PoolOptions"/>: rules over capabilities, as sets.</summary>
public sealed record Pool(string Name, FrozenSet<string> Services, FrozenSet<string> Languages, IReadOnlyList<string> WorkerPrefixes)
{
    /// <summary>Whether the worker belongs: it offers one of the services and one of the languages, and its id has one of the prefixes.</summary>
    public bool Admits(WorkerRegistration worker) =>
        (Services.Count == 0 || worker.Services.Any(Services.Contains)) &&
        (Languages.Count == 0 || worker.Languages.Any(Languages.Contains)) &&
        (WorkerPrefixes.Count == 0 || WorkerPrefixes.Any(p => worker.WorkerId.StartsWith(p, StringComparison.Ordinal)));

    /// <summary>Whether the pool is for jobs of this service and language. A job that names no language fits any.</summary>
    public bool Serves(string service, string? language) =>
        (Services.Count == 0 || Services.Contains(service)) &&
        (language is null || Languages.Count == 0 || Languages.Contains(language));
}

/// <summary>
/// The configured pools, compiled once per configuration change. The scheduler's placement snapshots and the
/// gateway's worker list both compile the rules with this class, so both name the same pools for a worker.
/// Workers that no pool admits form the implicit pool <see cref="DefaultPool"/>, which serves every job and comes
/// last, so a configuration without pools behaves as one pool of all workers.
/// </summary>
public sealed class PoolSet
{
    public const string DefaultPool = "default";

    static readonly string[] DefaultOnly = [DefaultPool];

    public static PoolSet Empty { get; } = new([]);

    PoolSet(IReadOnlyList<Pool> pools) => Pools = pools;

    /// <summary>The configured pools, in order of preference.</summary>
    public IReadOnlyList<Pool> Pools { get; }

    public static PoolSet Compile(IEnumerable<PoolOptions> pools) => new(pools
        .Select(p => new Pool(p.Name.Trim(), Set(p.Services), Set(p.Languages), p.WorkerPrefixes.Where(x => x.Length > 0).ToArray()))
        .ToList());

    /// <summary>Why a pool list cannot be used, or null when it can.</summary>
    public static string? Problem(IEnumerable<PoolOptions> pools)
    {
        var names = pools.Select(p => p.Name?.Trim() ?? "").ToList();
        if (names.Any(n => n.Length == 0))
            return "Placement:Pools: every pool needs a Name";
        if (names.Any(n => n == DefaultPool))
            return $"Placement:Pools: '{DefaultPool}' is the implicit pool of workers no rule admits; choose another name";
        var duplicate = names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        return duplicate is null ? null : $"Placement:Pools: the name '{duplicate.Key}' is used twice";
    }

    /// <summary>The pools a worker belongs to: every configured pool that admits it, or only <see cref="DefaultPool"/>.</summary>
    public string[] Membership(WorkerRegistration worker)
    {
        var names = Pools.Where(p => p.Admits(worker)).Select(p => p.Name).ToArray();
        return names.Length > 0 ? names : DefaultOnly;
    }

    /// <summary>
    /// The pools a job may use, best first: the preferred pool when it serves the job, then the other serving pools
    /// in configuration order, then <see cref="DefaultPool"/>. A preferred pool that does not exist is ignored: it is
    /// a preference, not a constraint.
    /// </summary>
    public IReadOnlyList<string> EligibleFor(string service, string? language, string? preferred)
    {
        var serving = Pools.Where(p => p.Serves(service, language)).Select(p => p.Name).Append(DefaultPool).ToList();
        if (preferred is not null && serving.Remove(preferred))
            serving.Insert(0, preferred);
        return serving;
    }

    static FrozenSet<string> Set(string[] values) => values.Where(v => v.Length > 0).ToFrozenSet(StringComparer.Ordinal);
}

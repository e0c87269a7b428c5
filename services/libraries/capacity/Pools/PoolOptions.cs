namespace Bus.Capacity.Pools;

/// <summary>One pool: a named rule over worker capabilities. Every list left empty matches anything.</summary>
public sealed class PoolOptions
{
    /// <summary>The pool's name, as jobs name it in <c>constraints.pool</c>. Required; not <c>default</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Services the pool is for: its workers offer at least one, and it serves jobs of these services.</summary>
    public string[] Services { get; set; } = [];

    /// <summary>Languages the pool is for: its workers offer at least one, and it serves jobs of these languages (or none).</summary>
    public string[] Languages { get; set; } = [];

    /// <summary>Worker id prefixes, e.g. <c>gpu-</c>: only workers whose id starts with one belong.</summary>
    public string[] WorkerPrefixes { get; set; } = [];
}

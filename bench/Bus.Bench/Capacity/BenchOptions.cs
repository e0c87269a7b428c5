using System.Globalization;

namespace Bus.Bench.Capacity;

/// <summary>
/// What to measure and how much, as <c>--name value</c> pairs (<see cref="BenchArguments"/>).
/// </summary>
public sealed record BenchOptions
{
    /// <summary>Concurrent tasks doing reserve+release, sharing one connection as the scheduler does.</summary>
    public int Tasks { get; init; } = 32;

    /// <summary>Measured reserve+release pairs per Redis deployment.</summary>
    public int Ops { get; init; } = 20_000;

    /// <summary>Pairs run and thrown away before measuring, so JIT tiering and the script cache settle.</summary>
    public int WarmupOps { get; init; } = 5_000;

    /// <summary>Registered workers the reservations are spread over.</summary>
    public int Workers { get; init; } = 50;

    /// <summary>Rows in <c>resource_allocations</c> for the SQL SUM.</summary>
    public int Rows { get; init; } = 500_000;

    /// <summary>Fraction of those rows that are not released (still allocated).</summary>
    public double Unreleased { get; init; } = 0.01;

    /// <summary>Measured runs of each sequential query: every SQL variant and <c>ListLive()</c>.</summary>
    public int Runs { get; init; } = 200;

    public const string Usage =
        "usage: Bus.Bench [--tasks 32] [--ops 20000] [--warmup 5000] [--workers 50] [--rows 500000] [--unreleased 0.01] [--runs 200]";

    public static BenchOptions Parse(string[] args)
    {
        var options = BenchArguments.Parse(args, new BenchOptions(), Usage, (o, name, value) => name switch
        {
            "--tasks" => o with { Tasks = BenchArguments.Positive(name, value) },
            "--ops" => o with { Ops = BenchArguments.Positive(name, value) },
            "--warmup" => o with { WarmupOps = BenchArguments.Positive(name, value) },
            "--workers" => o with { Workers = BenchArguments.Positive(name, value) },
            "--rows" => o with { Rows = BenchArguments.Positive(name, value) },
            "--unreleased" => o with { Unreleased = double.Parse(value, CultureInfo.InvariantCulture) },
            "--runs" => o with { Runs = BenchArguments.Positive(name, value) },
            _ => null,
        });
        if (options.Unreleased is <= 0 or > 1)
            throw new ArgumentException("--unreleased must be in (0, 1]");
        return options;
    }
}

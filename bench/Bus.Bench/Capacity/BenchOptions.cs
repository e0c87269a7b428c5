using System.Globalization;

namespace Bus.Bench.Capacity;

/// <summary>
/// What to measure and how much. Plain <c>--name value</c> pairs: System.CommandLine is not in the repo's
/// central package list, and seven numbers do not need a parser library.
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
        var options = new BenchOptions();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
                throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            var value = args[i + 1];
            options = args[i] switch
            {
                "--tasks" => options with { Tasks = Positive(args[i], value) },
                "--ops" => options with { Ops = Positive(args[i], value) },
                "--warmup" => options with { WarmupOps = Positive(args[i], value) },
                "--workers" => options with { Workers = Positive(args[i], value) },
                "--rows" => options with { Rows = Positive(args[i], value) },
                "--unreleased" => options with { Unreleased = double.Parse(value, CultureInfo.InvariantCulture) },
                "--runs" => options with { Runs = Positive(args[i], value) },
                _ => throw new ArgumentException($"unknown option {args[i]}\n{Usage}"),
            };
        }
        if (options.Unreleased is <= 0 or > 1)
            throw new ArgumentException("--unreleased must be in (0, 1]");
        return options;
    }

    static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} needs a positive whole number, not '{value}'");
}

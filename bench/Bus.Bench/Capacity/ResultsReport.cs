using System.Globalization;

namespace Bus.Bench.Capacity;

/// <summary>Prints the plans, the results table and the ratios: the text docs/benchmarks.md quotes verbatim.</summary>
public static class ResultsReport
{
    const string RowFormat = "{0,-17} {1,-66} {2,7} {3,9} {4,9} {5,9}  {6}";

    public static void Print(BenchOptions options, IReadOnlyList<LuaResults> redis, SqlResults sql)
    {
        foreach (var variant in sql.Variants)
        {
            Console.WriteLine($"EXPLAIN (ANALYZE, BUFFERS), index: {variant.Name}");
            foreach (var line in variant.Plan)
                Console.WriteLine($"  {line}");
        }
        Console.WriteLine();

        Console.WriteLine("Results (latencies in ms, measured after warm-up)");
        Console.WriteLine(Row("target", "measurement", "n", "p50", "p99", "max", "throughput"));
        Console.WriteLine(Row(new string('-', 17), new string('-', 66), new string('-', 7), new string('-', 9), new string('-', 9), new string('-', 9), new string('-', 16)));
        foreach (var r in redis)
        {
            foreach (var run in new[] { r.Loaded, r.Single })
            {
                var tasks = run.Tasks == 1 ? "1 task" : $"{run.Tasks} tasks";
                Console.WriteLine(Row(r.Target, $"Reserve (Lua), {tasks}, {options.Workers} workers", run.Reserve, $"{run.PairsPerSecond:N0} pairs/s"));
                Console.WriteLine(Row(r.Target, $"Release (Lua), {tasks}, {options.Workers} workers", run.Release, ""));
            }
            Console.WriteLine(Row(r.Target, "allocated cluster-wide: ListLive() sum, 1 task", r.ListLive, ""));
        }
        foreach (var v in sql.Variants)
            Console.WriteLine(Row("postgres", $"SUM(cpus) WHERE NOT released; {Short(v.Name)}", v.Latency, ""));
        foreach (var run in new[] { sql.FallbackLoaded, sql.FallbackSingle })
        {
            var tasks = run.Tasks == 1 ? "1 task" : $"{run.Tasks} tasks";
            Console.WriteLine(Row("postgres", $"Reserve (Redis-down fallback), {tasks}, {options.Workers} workers", run.Reserve, $"{run.PairsPerSecond:N0} pairs/s"));
            Console.WriteLine(Row("postgres", $"Release (Redis-down fallback), {tasks}, {options.Workers} workers", run.Release, ""));
        }
        Console.WriteLine();
        Console.WriteLine($"SQL table: {sql.Rows:N0} rows, {sql.Unreleased:N0} unreleased ({100.0 * sql.Unreleased / sql.Rows:F2}%), " +
                          $"binary COPY in {sql.LoadTime.TotalSeconds:F1} s; each query prepared, 1 connection, sequential.");
        Console.WriteLine();

        Console.WriteLine("Ratios of p50s: SQL SUM p50 / our p50 (above 1: ours is faster)");
        var columns = redis.SelectMany(r => new (string Name, double Ms)[]
        {
            ($"{Abbrev(r.Target)} reserve(1)", r.Single.Reserve.P50Ms),
            ($"{Abbrev(r.Target)} reserve({r.Loaded.Tasks})", r.Loaded.Reserve.P50Ms),
            ($"{Abbrev(r.Target)} ListLive", r.ListLive.P50Ms),
        }).ToArray();
        Console.WriteLine($"{"SQL SUM, index",-36}" + string.Concat(columns.Select(c => $"{c.Name,24}")));
        foreach (var v in sql.Variants)
            Console.WriteLine($"{Short(v.Name),-36}" + string.Concat(columns.Select(c => $"{Ratio(v.Latency.P50Ms / c.Ms),24}")));
    }

    static string Row(string target, string what, LatencySummary l, string throughput) =>
        Row(target, what, l.Count.ToString("N0", CultureInfo.InvariantCulture), Ms(l.P50Ms), Ms(l.P99Ms), Ms(l.MaxMs), throughput);

    static string Row(params object[] cells) => string.Format(CultureInfo.InvariantCulture, RowFormat, cells).TrimEnd();

    static string Ms(double ms) => ms.ToString("F3", CultureInfo.InvariantCulture);

    static string Ratio(double r) => r.ToString(r < 10 ? "F1" : "F0", CultureInfo.InvariantCulture) + "x";

    static string Abbrev(string target) => target.Replace("redis ", "");

    static string Short(string indexName) => indexName switch
    {
        "no index" => "no index",
        var n when n.StartsWith("project's") => "project's (worker_id) INCLUDE (sizes)",
        _ => "partial (worker_id), no sizes",
    };
}

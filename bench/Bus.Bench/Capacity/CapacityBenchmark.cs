namespace Bus.Bench.Capacity;

/// <summary>
/// Capacity benchmark: what "how much is allocated" costs our way (Lua on Redis, standalone and
/// cluster) and the original design's way (a SQL SUM over the allocation history), measured in one run on one machine.
/// </summary>
public static class CapacityBenchmark
{
    public static async Task<int> Run(string[] args)
    {
        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }

        foreach (var line in MachineInfo.Describe())
            Console.WriteLine(line);
        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at start (1/5/15 min)");
        Console.WriteLine($"options: --tasks {options.Tasks} --ops {options.Ops} --warmup {options.WarmupOps} --workers {options.Workers} " +
                          $"--rows {options.Rows} --unreleased {options.Unreleased} --runs {options.Runs}");

        var redis = new List<LuaResults>();
        foreach (var (target, connectionString) in new[] { ("redis standalone", BenchEnvironment.Redis), ("redis cluster", BenchEnvironment.RedisCluster) })
        {
            Console.Error.WriteLine($"measuring {target} ...");
            redis.Add(await new LuaReservationBenchmark(target, connectionString, options).Run());
        }
        Console.Error.WriteLine($"measuring postgres SUM over {options.Rows:N0} rows ...");
        var sql = await new SqlSumBenchmark(BenchEnvironment.Postgres, options).Run();

        Console.WriteLine($"load:    {MachineInfo.LoadAverage()} at end");
        Console.WriteLine("servers: " + string.Join(", ", redis.Select(r => $"{r.Target} {r.ServerVersion}")) + $", PostgreSQL {sql.ServerVersion}");
        Console.WriteLine();
        ResultsReport.Print(options, redis, sql);
        return 0;
    }
}

using Bus.Bench.Capacity;
using Bus.Bench.EndToEnd;

// The benchmarks: bench/run-capacity.sh runs "capacity", bench/run-end-to-end.sh runs "end-to-end".
return args.FirstOrDefault() switch
{
    "capacity" => await CapacityBenchmark.Run(args[1..]),
    "end-to-end" => await EndToEndBenchmark.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Bus.Bench capacity [options] | Bus.Bench end-to-end [options]");
    return 2;
}

using Bus.Bench.Capacity;
using Bus.Bench.EndToEnd;

// The benchmarks: bench/run-capacity.sh runs "capacity" (and "report-storm" with --storm), bench/run-end-to-end.sh
// runs "end-to-end".
return args.FirstOrDefault() switch
{
    "capacity" => await CapacityBenchmark.Run(args[1..]),
    "end-to-end" => await EndToEndBenchmark.Run(args[1..]),
    "report-storm" => await ReportStormBenchmark.Run(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Bus.Bench capacity [options] | Bus.Bench end-to-end [options] | Bus.Bench report-storm");
    return 2;
}

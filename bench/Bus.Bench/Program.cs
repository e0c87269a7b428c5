using Bus.Bench.Capacity;
using Bus.Bench.Chaos;
using Bus.Bench.EndToEnd;
using Bus.Bench.Scale;

// The benchmarks: bench/run-capacity.sh runs "capacity" (and "report-storm" with --storm), bench/run-end-to-end.sh
// runs "end-to-end", bench/run-scale.sh runs "scale", bench/run-chaos.sh runs "chaos".
return args.FirstOrDefault() switch
{
    "capacity" => await CapacityBenchmark.Run(args[1..]),
    "chaos" => await ChaosBenchmark.Run(args[1..]),
    "end-to-end" => await EndToEndBenchmark.Run(args[1..]),
    "report-storm" => await ReportStormBenchmark.Run(),
    "scale" => await ScaleBenchmark.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Bus.Bench capacity [options] | Bus.Bench end-to-end [options] | Bus.Bench report-storm | Bus.Bench scale [options] | Bus.Bench chaos [options]");
    return 2;
}

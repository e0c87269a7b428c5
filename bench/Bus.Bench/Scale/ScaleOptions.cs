namespace Bus.Bench.Scale;

/// <summary>What the scale benchmark runs, as <c>--name value</c> pairs (<see cref="BenchArguments"/>).</summary>
public sealed record ScaleOptions
{
    /// <summary>Simulated workers, one worker process per value, each running every pending count.</summary>
    public int[] Workers { get; init; } = [10, 100, 1_000];

    /// <summary>Jobs left pending that no worker can take (<see cref="PendingSeed"/>), per round.</summary>
    public int[] Pending { get; init; } = [0, 10_000, 100_000];

    /// <summary>Probes submitted at <see cref="Rate"/> a second, for placement latency without a queue in front of it.</summary>
    public int Probes { get; init; } = 200;

    public int Rate { get; init; } = 20;

    /// <summary>Probes then submitted as fast as <see cref="Concurrency"/> clients can, for throughput.</summary>
    public int Burst { get; init; } = 600;

    /// <summary>Bursts per round; the table shows the median throughput and the range, as one burst lasts only seconds.</summary>
    public int Bursts { get; init; } = 3;

    public int Concurrency { get; init; } = 32;

    /// <summary>Probes run first in each round and not counted, so JIT and connection pools have settled.</summary>
    public int Warmup { get; init; } = 100;

    /// <summary>
    /// CPUs of each simulated worker, and its job slots. Four, so that even 10 workers (40 slots) have room for a burst of
    /// noop probes: the rounds then compare what the scheduler spends, not how big the cluster is.
    /// </summary>
    public int Cpus { get; init; } = 4;

    /// <summary>Where the services' logs and pid files go. Default: a new folder under the temp directory.</summary>
    public string? RunDirectory { get; init; }

    public const string Usage =
        "usage: Bus.Bench scale [--workers 10,100,1000] [--pending 0,10000,100000] [--probes 200] [--rate 20] [--burst 600] [--bursts 3] " +
        "[--concurrency 32] [--warmup 100] [--cpus 4] [--run-dir DIR]";

    public static ScaleOptions Parse(string[] args) =>
        BenchArguments.Parse(args, new ScaleOptions(), Usage, (o, name, value) => name switch
        {
            "--workers" => o with { Workers = BenchArguments.Counts(name, value) },
            "--pending" => o with { Pending = BenchArguments.Counts(name, value).Order().ToArray() },
            "--probes" => o with { Probes = BenchArguments.Positive(name, value) },
            "--rate" => o with { Rate = BenchArguments.Positive(name, value) },
            "--burst" => o with { Burst = BenchArguments.Positive(name, value) },
            "--bursts" => o with { Bursts = BenchArguments.Positive(name, value) },
            "--concurrency" => o with { Concurrency = BenchArguments.Positive(name, value) },
            "--warmup" => o with { Warmup = BenchArguments.Positive(name, value) },
            "--cpus" => o with { Cpus = BenchArguments.Positive(name, value) },
            "--run-dir" => o with { RunDirectory = value },
            _ => null,
        });

    public override string ToString() =>
        $"--workers {string.Join(',', Workers)} --pending {string.Join(',', Pending)} --probes {Probes} --rate {Rate} " +
        $"--burst {Burst} --bursts {Bursts} --concurrency {Concurrency} --warmup {Warmup} --cpus {Cpus}";
}

namespace Bus.Bench.EndToEnd;

/// <summary>How the end-to-end benchmark drives the running system. Plain <c>--name value</c> pairs.</summary>
public sealed record EndToEndOptions
{
    /// <summary>Jobs submitted in the measured run. The default gives over 30 s of steady state on 2 cores.</summary>
    public int Jobs { get; init; } = 10_000;

    /// <summary>Submissions in flight at once.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary><c>noop</c> (in-process, no work) or <c>shell</c> (runs <c>/bin/true</c>).</summary>
    public string Service { get; init; } = "noop";

    /// <summary>Jobs run and thrown away first, so every service has warmed up (JIT, pools, topology).</summary>
    public int Warmup { get; init; } = 2_000;

    /// <summary>Jobs submitted per second; 0 (the default) submits as fast as the gateway accepts them.</summary>
    public int Rate { get; init; }

    /// <summary>
    /// 0 (the default) submits each job with its own <c>POST /api/v1/jobs</c>; N submits them as arrays of N through
    /// <c>POST /api/v1/jobs:batch</c> (at most 1,000), up to <see cref="Concurrency"/> arrays in flight at once.
    /// </summary>
    public int Array { get; init; }

    /// <summary>The gateway's URL, or several, comma-separated, to spread the jobs over (./bus up --two runs two).</summary>
    public string Gateway { get; init; } = "http://127.0.0.1:8080";

    public string ApiKey { get; init; } = Repository.AdminKey;

    public const string Usage =
        "usage: Bus.Bench end-to-end [--jobs 10000] [--concurrency 32] [--service noop|shell] [--warmup 2000] [--rate JOBS_PER_S] [--array N] [--gateway URL[,URL...]] [--key KEY]";

    public static EndToEndOptions Parse(string[] args) =>
        BenchArguments.Parse(args, new EndToEndOptions(), Usage, (o, name, value) => name switch
        {
            "--jobs" => o with { Jobs = BenchArguments.Positive(name, value) },
            "--concurrency" => o with { Concurrency = BenchArguments.Positive(name, value) },
            "--service" when value is "noop" or "shell" => o with { Service = value },
            "--warmup" => o with { Warmup = BenchArguments.Positive(name, value) },
            "--rate" => o with { Rate = BenchArguments.Positive(name, value) },
            "--array" => o with
            {
                Array = BenchArguments.Positive(name, value) is var size and <= 1_000 ? size : throw new ArgumentException("--array takes 1 to 1000 jobs per array"),
            },
            "--gateway" => o with { Gateway = value },
            "--key" => o with { ApiKey = value },
            _ => null,
        });
}

namespace Bus.Bench.Chaos;

/// <summary>How the chaos suite drives the running system. Plain <c>--name value</c> pairs.</summary>
public sealed record ChaosOptions
{
    /// <summary>Jobs streamed per round. Default 300; <c>--quick</c> makes it 100.</summary>
    public int Jobs { get; init; } = 300;

    /// <summary>Jobs submitted per second, each at its due time whether or not earlier ones were answered. Default 20.</summary>
    public int Rate { get; init; } = 20;

    /// <summary>
    /// Seconds every job has to reach a terminal state, counted from the later of the last submission and the end of the
    /// fault; a job not terminal by then counts as lost. Default 120; <c>--quick</c> makes it 75. Either is longer than the
    /// system's own recovery timers (the start lease and a worker's registration, 60 s each), so a job the system
    /// recovers as designed is not counted lost.
    /// </summary>
    public int Deadline { get; init; } = 120;

    /// <summary>How long each job sleeps between recording its start and its end. Default 500 ms.</summary>
    public int JobMilliseconds { get; init; } = 500;

    /// <summary>The rounds to run, in order; default all of <see cref="Faults.Names"/>.</summary>
    public IReadOnlyList<string> Rounds { get; init; } = Faults.Names;

    /// <summary>The repository, whose <c>./bus</c>, <c>infra/</c> and <c>.state/</c> the faults use.</summary>
    public string Root { get; init; } = "";

    /// <summary>Where the executions files go; made world-writable, so a job run as another user can append.</summary>
    public string RunDirectory { get; init; } = "";

    public string Gateway { get; init; } = "http://127.0.0.1:8080";

    public string ApiKey { get; init; } = Repository.AdminKey;

    public const string Usage =
        "usage: Bus.Bench chaos --root DIR --run-dir DIR [--quick 1] [--jobs 300] [--rate 20] [--deadline 120] [--job-ms 500]\n" +
        "                       [--rounds name,name,...] [--gateway URL] [--key KEY]\n" +
        "rounds: baseline, kill-gateway, kill-scheduler, kill-reconciler, kill-worker, redis-flushall, redis-stop-30s,\n" +
        "        rabbitmq-stop-30s, postgres-stop-10s, postgres-stop-60s, rabbitmq-node-stop-30s (the default: all of these)\n" +
        "        and, only when named: postgres-stop-120s, rabbitmq-stop-120s, redis-stop-120s";

    public static ChaosOptions Parse(string[] args)
    {
        var options = BenchArguments.Parse(args, new ChaosOptions(), Usage, (o, name, value) => name switch
        {
            "--quick" when value == "1" => o with { Jobs = 100, Deadline = 75 },
            "--jobs" => o with { Jobs = BenchArguments.Positive(name, value) },
            "--rate" => o with { Rate = BenchArguments.Positive(name, value) },
            "--deadline" => o with { Deadline = BenchArguments.Positive(name, value) },
            "--job-ms" => o with { JobMilliseconds = BenchArguments.Positive(name, value) },
            "--rounds" => o with { Rounds = RoundNames(value) },
            "--root" => o with { Root = value },
            "--run-dir" => o with { RunDirectory = value },
            "--gateway" => o with { Gateway = value },
            "--key" => o with { ApiKey = value },
            _ => null,
        });
        if (options.Root == "" || options.RunDirectory == "")
            throw new ArgumentException($"--root and --run-dir are required (bench/run-chaos.sh passes them)\n{Usage}");
        return options;
    }

    static string[] RoundNames(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = names.Where(n => !Faults.All.Contains(n)).ToArray();
        return unknown.Length == 0 && names.Length > 0
            ? names
            : throw new ArgumentException($"unknown round(s): {string.Join(", ", unknown)}\n{Usage}");
    }
}

using System.Globalization;

namespace Bus.Bench.EndToEnd;

/// <summary>How the end-to-end benchmark drives the running system. Plain <c>--name value</c> pairs.</summary>
public sealed record EndToEndOptions
{
    /// <summary>Jobs submitted in the measured run. The default gives over 30 s of steady state on 2 cores.</summary>
    public int Jobs { get; init; } = 2_000;

    /// <summary>Submissions in flight at once.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary><c>noop</c> (in-process, no work) or <c>shell</c> (runs <c>/bin/true</c>).</summary>
    public string Service { get; init; } = "noop";

    /// <summary>Jobs run and thrown away first, so every service has warmed up (JIT, pools, topology).</summary>
    public int Warmup { get; init; } = 300;

    /// <summary>Jobs submitted per second; 0 (the default) submits as fast as the gateway accepts them.</summary>
    public int Rate { get; init; }

    public string Gateway { get; init; } = "http://127.0.0.1:8080";

    public string ApiKey { get; init; } = "dev-admin-key-0123456789";

    public const string Usage =
        "usage: Bus.Bench end-to-end [--jobs 2000] [--concurrency 32] [--service noop|shell] [--warmup 300] [--rate JOBS_PER_S] [--gateway URL] [--key KEY]";

    public static EndToEndOptions Parse(string[] args)
    {
        var options = new EndToEndOptions();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
                throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            var value = args[i + 1];
            options = args[i] switch
            {
                "--jobs" => options with { Jobs = Positive(args[i], value) },
                "--concurrency" => options with { Concurrency = Positive(args[i], value) },
                "--service" when value is "noop" or "shell" => options with { Service = value },
                "--warmup" => options with { Warmup = Positive(args[i], value) },
                "--rate" => options with { Rate = Positive(args[i], value) },
                "--gateway" => options with { Gateway = value },
                "--key" => options with { ApiKey = value },
                _ => throw new ArgumentException($"unknown option or value: {args[i]} {value}\n{Usage}"),
            };
        }
        return options;
    }

    static int Positive(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new ArgumentException($"{name} needs a positive whole number, not '{value}'");
}

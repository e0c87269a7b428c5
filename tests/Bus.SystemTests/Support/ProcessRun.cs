using System.Diagnostics;

namespace Bus.SystemTests.Support;

/// <summary>A program run to its end by a test, with everything it printed.</summary>
public sealed record ProcessRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Runs <paramref name="program"/> with <paramref name="environment"/> added to the test's own, waiting at
    /// most <paramref name="timeout"/>.</summary>
    public static async Task<ProcessRun> Run(string program, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return new ProcessRun(process.ExitCode, await stdout, await stderr);
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

using System.Diagnostics;

namespace Bus.SystemTests.Support;

/// <summary>One run of the CLI (<c>cli/Bus.Cli</c>) as a real process against a running system, as a user would type it.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public static async Task<CliRun> Start(RunningSystem system, string apiKey, params string[] arguments)
    {
        var dll = Path.Combine(TestEnvironment.RepoRoot, "cli", "Bus.Cli", "bin", ServiceProcess.BuildConfiguration, "net10.0", "bus-cli.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the solution first", dll);
        var start = new ProcessStartInfo("dotnet", [dll, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["BUS_URL"] = system.BaseAddress.ToString();
        start.Environment["BUS_API_KEY"] = apiKey;
        // No config file of the machine's user may leak into the test.
        start.Environment["BUS_CONFIG"] = Path.Combine(Path.GetTempPath(), $"bus-cli-none-{Guid.NewGuid():N}.json");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(deadline.Token);
        return new CliRun(process.ExitCode, await stdout, await stderr);
    }

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

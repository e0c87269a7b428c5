using System.Diagnostics;
using System.Text;

namespace Bus.SystemTests.Support;

/// <summary>
/// One of the project's services, started as a real process from its build output. Its output is kept so a failing
/// test can show it. Stopped with SIGTERM (a clean stop), killed only if it does not stop in time.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StringBuilder _output = new();

    public string Name { get; }

    ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public static ServiceProcess Start(string name, string service, string assembly, IReadOnlyDictionary<string, string> environment) =>
        StartBuilt(name, Path.Combine("services", service), assembly, environment);

    /// <summary>Starts the build output of the project in <paramref name="folder"/> (relative to the repository).</summary>
    public static ServiceProcess StartBuilt(string name, string folder, string assembly, IReadOnlyDictionary<string, string> environment)
    {
        var dll = Path.Combine(TestEnvironment.RepoRoot, folder, "bin", BuildConfiguration, "net10.0", $"{assembly}.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: build the solution first", dll);

        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        // Each process's health and metrics listener on a port of its own, free when it starts, so several
        // workers (or a second system) on this host never fight over a service's default management port.
        start.Environment["Management__Port"] = "0";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        var service_ = new ServiceProcess(name, process);
        process.OutputDataReceived += (_, e) => service_.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service_.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service_;
    }

    /// <summary>The build configuration the tests themselves were built in (the services were built alongside).</summary>
    internal static string BuildConfiguration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}")
        ? "Release" : "Debug";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>kill -9: the process dies at once, with no chance to unregister or report.</summary>
    public void KillHard() => _process.Kill(entireProcessTree: false);

    /// <summary>SIGSTOP: the process stops where it is, noticing nothing, until killed; what it started runs on.</summary>
    public void Freeze() => Posix.Stop(_process.Id);

    /// <summary>
    /// Waits for the process to exit by itself and for its output to be read to the end (<see cref="HasExited"/> can be
    /// true while its last lines are still on their way into <see cref="Output"/>).
    /// </summary>
    public async Task Exited(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
    }

    /// <summary>SIGTERM, and wait for the clean exit.</summary>
    public async Task Terminate(TimeSpan timeout)
    {
        Posix.Terminate(_process.Id);
        using var deadline = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(deadline.Token);
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Posix.Terminate(_process.Id);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}

/// <summary>Signals a process we started, by its pid.</summary>
static class Posix
{
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    public static void Terminate(int pid) => Kill(pid, 15);

    public static void Stop(int pid) => Kill(pid, 19);
}

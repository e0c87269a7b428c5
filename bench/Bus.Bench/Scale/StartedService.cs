using System.Diagnostics;
using System.Runtime.InteropServices;
using Bus.Bench.EndToEnd;

namespace Bus.Bench.Scale;

/// <summary>
/// A service this benchmark started from its build output. Its output goes to a log file, and line by line to an
/// optional listener; its pid goes to a pid file beside the log, so the script can stop it should this program die
/// first. It is stopped by that pid: SIGTERM, so it unregisters and drains as in production, and SIGKILL only if it
/// has not exited in time.
/// </summary>
public sealed class StartedService
{
    readonly Process _process;
    readonly StreamWriter _log;
    readonly string _pidFile;
    readonly Action<string>? _onLine;
    bool _closed;

    public string Name { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>CPU seconds used so far and peak memory, or null once it has exited.</summary>
    public ServiceUsage? Usage => ServiceUsage.Of(Name, Pid);

    StartedService(string name, Process process, string runDirectory, Action<string>? onLine)
    {
        Name = name;
        _process = process;
        _onLine = onLine;
        _log = new StreamWriter(Path.Combine(runDirectory, $"{name}.log")) { AutoFlush = true };
        _pidFile = Path.Combine(runDirectory, $"{name}.pid");
    }

    public static StartedService Start(string name, string dll, IReadOnlyDictionary<string, string> environment, IEnumerable<string> args,
        string runDirectory, Action<string>? onLine)
    {
        if (!File.Exists(dll))
            throw new FileNotFoundException($"{dll} is missing: bench/run-scale.sh builds it", dll);
        var start = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Each process's health and metrics listener on a port of its own, free when it starts, so several
        // workers (or a second system) on this host never fight over a service's default management port.
        start.Environment["Management__Port"] = "0";
        foreach (var (key, value) in environment)
            start.Environment[key] = value;

        var process = new Process { StartInfo = start };
        var service = new StartedService(name, process, runDirectory, onLine);
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        File.WriteAllText(service._pidFile, process.Id.ToString());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    public async Task Stop(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = Signal(Pid, 15);
            using var deadline = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine($"{Name} (pid {Pid}) did not stop within {timeout.TotalSeconds} s of SIGTERM; killing it");
                _process.Kill();
                await _process.WaitForExitAsync();
            }
        }
        File.Delete(_pidFile);
        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }
    }

    void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
        {
            if (!_closed)
                _log.WriteLine(line);
        }
        _onLine?.Invoke(line);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Signal(int pid, int signal);
}

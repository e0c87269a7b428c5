using System.Diagnostics;

namespace Bus.Bench.Chaos;

/// <summary>
/// The system under test, through the project's own commands: <c>./bus start</c> restarts a service as <c>./bus up</c>
/// starts it, <c>infra/down.sh --only</c> and <c>infra/up.sh</c> stop and start one server with its own CLI, and the
/// pids come from <c>.state/pids</c>. Every command's output goes to <c>chaos.log</c> in the run folder.
/// </summary>
public sealed class SystemControl(ChaosOptions options)
{
    readonly string _log = Path.Combine(options.RunDirectory, "chaos.log");
    readonly Dictionary<int, string> _services = [];

    public static readonly string[] Services = ["gateway", "scheduler", "reconciler", "worker-1", "worker-2"];

    public void Note(string line)
    {
        var stamped = $"{DateTime.UtcNow:HH:mm:ss.f} {line}";
        Console.Error.WriteLine(stamped);
        File.AppendAllText(_log, stamped + "\n");
    }

    /// <summary>The pid <c>./bus</c> recorded for a service, if that process is alive.</summary>
    public int? LivePid(string service)
    {
        var file = Path.Combine(options.Root, ".state/pids", service + ".pid");
        if (!File.Exists(file) || !int.TryParse(File.ReadAllText(file).Trim(), out var pid))
            return null;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited ? null : pid;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The service a process id belonged to: every pid <c>./bus</c> recorded while the suite ran, so a job started by a
    /// worker that was killed since is still attributed to it.
    /// </summary>
    public string? ServiceOf(int pid)
    {
        lock (_services)
            return _services.GetValueOrDefault(pid);
    }

    /// <summary>Notes the pids <c>./bus</c> recorded now.</summary>
    public void RecordPids()
    {
        foreach (var service in Services)
            if (LivePid(service) is { } pid)
                lock (_services)
                    _services[pid] = service;
    }

    /// <summary>SIGKILL to the service's own pid, then waits until it is gone.</summary>
    public async Task Kill(string service)
    {
        if (LivePid(service) is not { } pid)
        {
            Note($"{service} is not running; nothing to kill");
            return;
        }
        using var process = Process.GetProcessById(pid);
        process.Kill(entireProcessTree: false);
        await process.WaitForExitAsync();
        Note($"killed {service} (pid {pid}) with SIGKILL");
    }

    public async Task Start(params string[] services)
    {
        await Run("./bus", ["start", .. services]);
        RecordPids();
    }

    /// <summary>Stops one server: rabbitmq, rabbitmq-node-1, redis, postgres, ... (infra/down.sh --only).</summary>
    public Task StopServer(string name) => Run("infra/down.sh", ["--only", name]);

    /// <summary>Starts whatever of the infrastructure is not running (infra/up.sh is idempotent).</summary>
    public Task StartInfrastructure() => Run("infra/up.sh", []);

    async Task Run(string command, string[] args)
    {
        Note($"$ {command} {string.Join(' ', args)}");
        // Output goes straight to the log from the shell, so a daemon the command leaves behind holds no pipe of ours.
        var start = new ProcessStartInfo("/bin/bash", ["-c", "exec \"$0\" \"$@\" >>\"$LOG\" 2>&1", Path.Combine(options.Root, command), .. args])
        {
            WorkingDirectory = options.Root,
            UseShellExecute = false,
            Environment = { ["LOG"] = _log },
        };
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            Note($"{command} exited with {process.ExitCode}; see {_log}");
    }
}

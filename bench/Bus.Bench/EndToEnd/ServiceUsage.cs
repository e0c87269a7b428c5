namespace Bus.Bench.EndToEnd;

/// <summary>
/// CPU seconds and peak memory of each service, read from /proc for the pids ./bus up recorded, and of the
/// infrastructure (PostgreSQL with its backends, RabbitMQ and the nodes of its cluster when it runs, Redis) from the pid
/// files infra/up.sh keeps, so a run shows where the machine's cores went. The peak memory of reaped children is not
/// known (only their parent can ask the kernel for it), so theirs is null.
/// </summary>
public sealed record ServiceUsage(string Name, double CpuSeconds, double? PeakMemoryMb)
{
    const double ClockTicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>Every service in <c>.state/pids</c> that is running, then the infrastructure under <c>.state/infra</c>.</summary>
    public static IReadOnlyList<ServiceUsage> Read(string stateFolder)
    {
        var pids = Path.Combine(stateFolder, "pids");
        var services = Directory.Exists(pids)
            ? Directory.GetFiles(pids, "*.pid").Order()
                .SelectMany(f => ReadService(Path.GetFileNameWithoutExtension(f), PidIn(f)))
            : [];
        var infra = Path.Combine(stateFolder, "infra");
        var infrastructure = new[]
        {
            ReadOne("postgresql", PidIn(Path.Combine(infra, "postgres/data/postmaster.pid")), withChildren: true),
            ReadOne("rabbitmq", PidIn(Path.Combine(infra, "rabbitmq/rabbitmq.pid")), withChildren: true),
            ReadOne("redis", PidIn(Path.Combine(infra, "redis/redis.pid")), withChildren: false),
        }.Concat(Enumerable.Range(1, 3).Select(n =>
            ReadOne($"rabbitmq-c{n}", PidIn(Path.Combine(infra, $"rabbitmq-cluster/{n}/rabbitmq.pid")), withChildren: true)));
        return services.Concat(infrastructure).OfType<ServiceUsage>().ToList();
    }

    /// <summary>One process by its pid, or null when it no longer runs.</summary>
    public static ServiceUsage? Of(string name, int pid) => ReadOne(name, pid.ToString(), withChildren: false);

    /// <summary>
    /// A service, and apart from it what its reaped children spent: a worker's jobs, their launcher and the programs
    /// they ran (a job's CPU is the machine's too, and the launch is the worker's overhead), named "{service} jobs".
    /// </summary>
    static IEnumerable<ServiceUsage?> ReadService(string name, string? pid)
    {
        var own = ReadOne(name, pid, withChildren: false);
        yield return own;
        if (own is not null && pid is not null && Stat(pid) is { Reaped: > 0 } stat)
            yield return new ServiceUsage($"{name} jobs", stat.Reaped / ClockTicksPerSecond, null);
    }

    static string? PidIn(string file) => File.Exists(file) ? File.ReadLines(file).FirstOrDefault()?.Trim() : null;

    /// <summary>
    /// One process; with <paramref name="withChildren"/>, plus its live children (PostgreSQL's backends) and the
    /// children it has already reaped (cutime, cstime), so backends that came and went during the run still count.
    /// </summary>
    static ServiceUsage? ReadOne(string name, string? pid, bool withChildren)
    {
        if (pid is null || Stat(pid) is not { } stat)
            return null;
        var ticks = stat.Own + (withChildren ? stat.Reaped : 0);
        if (withChildren)
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
                if (Stat(Path.GetFileName(dir)) is { } child && child.ParentPid == pid)
                    ticks += child.Own + child.Reaped;
        var peakKb = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:"))?
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return new ServiceUsage(name, ticks / ClockTicksPerSecond, peakKb is null ? null : long.Parse(peakKb) / 1024.0);
    }

    /// <summary>utime+stime, cutime+cstime and the parent pid of a process, or null when it is gone.</summary>
    static (long Own, long Reaped, string ParentPid)? Stat(string pid)
    {
        try
        {
            // Fields after the command name, which is in parentheses and may contain spaces: ppid is the 4th field,
            // utime the 14th, stime 15th, cutime 16th, cstime 17th.
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12]), long.Parse(fields[13]) + long.Parse(fields[14]), fields[1]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null; // not a process directory, or it just exited
        }
    }
}

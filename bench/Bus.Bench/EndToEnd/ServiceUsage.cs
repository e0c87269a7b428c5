namespace Bus.Bench.EndToEnd;

/// <summary>CPU seconds and peak memory of each service, read from /proc for the pids ./bus up recorded.</summary>
public sealed record ServiceUsage(string Name, double CpuSeconds, double PeakMemoryMb)
{
    const double ClockTicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>Every service in <c>.state/pids</c> that is running.</summary>
    public static IReadOnlyList<ServiceUsage> Read(string pidFolder) =>
        Directory.Exists(pidFolder)
            ? Directory.GetFiles(pidFolder, "*.pid").Order().Select(ReadOne).OfType<ServiceUsage>().ToList()
            : [];

    static ServiceUsage? ReadOne(string pidFile) =>
        Of(Path.GetFileNameWithoutExtension(pidFile), int.Parse(File.ReadAllText(pidFile).Trim()));

    /// <summary>One process by its pid, or null when it no longer runs.</summary>
    public static ServiceUsage? Of(string name, int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
            return null;
        // Fields after the command name, which is in parentheses and may contain spaces: utime is 14th, stime 15th.
        var text = File.ReadAllText(stat);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        var cpu = (long.Parse(fields[11]) + long.Parse(fields[12])) / ClockTicksPerSecond;
        var peakKb = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:"))?
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return new ServiceUsage(name, cpu, peakKb is null ? 0 : long.Parse(peakKb) / 1024.0);
    }
}

using System.Runtime.InteropServices;

namespace Bus.Bench;

/// <summary>What the numbers were measured on: without it a latency means little.</summary>
public static class MachineInfo
{
    public static IEnumerable<string> Describe()
    {
        yield return $"cores:   {Environment.ProcessorCount} ({CpuModel()})";
        yield return $"memory:  {MemoryGiB():F1} GiB (MemTotal in /proc/meminfo)";
        yield return $"os:      {OsName()}, kernel {Kernel()}";
        yield return $".net:    {RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC in this program (the services, Web SDK projects, run server GC)";
    }

    /// <summary>The 1, 5 and 15 minute load averages: on a shared 2-core machine other work moves every number.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    static string Kernel() =>
        File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : Environment.OSVersion.VersionString;

    static string CpuModel() => FirstValue("/proc/cpuinfo", "model name") ?? "unknown cpu";

    static double MemoryGiB()
    {
        // "MemTotal:       24684084 kB"
        var kb = FirstValue("/proc/meminfo", "MemTotal")?.Split(' ')[0];
        return kb is null ? 0 : long.Parse(kb) / 1024.0 / 1024.0;
    }

    static string OsName() =>
        File.Exists("/etc/os-release")
            ? File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME="))?["PRETTY_NAME=".Length..].Trim('"') ?? "linux"
            : RuntimeInformation.OSDescription;

    static string? FirstValue(string file, string key) =>
        File.Exists(file)
            ? File.ReadLines(file).Where(l => l.StartsWith(key)).Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault()
            : null;
}

using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>
/// cgroup v1: one cgroup per attempt in each of the cpu, cpuacct, memory, pids and freezer hierarchies, under
/// <c>{CgroupParent}/{workerId}</c>. The CPU quota is the reserved cpus, the memory limit memoryMb when set, and the
/// pids limit <see cref="IsolationOptions.PidsLimit"/>. Stopping freezes the attempt first, so nothing forks while
/// it is being killed.
/// </summary>
public sealed class CgroupV1Containment(string root, string parent, string workerId, int pidsLimit) : IContainment
{
    public static readonly string[] Controllers = ["cpu", "cpuacct", "memory", "pids", "freezer"];

    const int CpuPeriodMicroseconds = 100_000;

    public string Mode => EnforcementModes.CgroupV1;

    CgroupDirectory WorkerCgroup(string controller) => new(Path.Combine(root, controller, parent, workerId));

    /// <summary>Whether every controller is mounted and this process can create its cgroups there.</summary>
    public bool Usable()
    {
        try
        {
            foreach (var controller in Controllers)
            {
                if (!File.Exists(Path.Combine(root, controller, "cgroup.procs")))
                    return false;
                WorkerCgroup(controller).Create();
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public IAttemptContainer Create(string name, ResourceVector resources)
    {
        var cgroups = Controllers.ToDictionary(c => c, c => WorkerCgroup(c).Child(name));
        foreach (var cgroup in cgroups.Values)
            cgroup.Create();
        cgroups["cpu"].Write("cpu.cfs_period_us", CpuPeriodMicroseconds.ToString());
        cgroups["cpu"].Write("cpu.cfs_quota_us", (resources.Cpus * (long)CpuPeriodMicroseconds).ToString());
        if (resources.MemoryMb > 0)
            cgroups["memory"].Write("memory.limit_in_bytes", (resources.MemoryMb * 1024L * 1024).ToString());
        cgroups["pids"].Write("pids.max", pidsLimit.ToString());
        return new Attempt(cgroups);
    }

    public async Task<int> KillLeftovers(CancellationToken cancellationToken)
    {
        var names = Controllers.SelectMany(c => WorkerCgroup(c).Children().Select(d => Path.GetFileName(d.Path))).Distinct().ToList();
        foreach (var name in names)
        {
            await using var attempt = new Attempt(Controllers.ToDictionary(c => c, c => WorkerCgroup(c).Child(name)));
            await attempt.KillAll(0, cancellationToken);
        }
        return names.Count;
    }

    sealed class Attempt(Dictionary<string, CgroupDirectory> cgroups) : IAttemptContainer
    {
        public IReadOnlyList<string> JoinFiles { get; } = cgroups.Values.Select(c => c.File("cgroup.procs")).ToList();

        public bool MemoryLimitHit => cgroups["memory"].Counter("memory.oom_control", "oom_kill") > 0;

        public async Task KillAll(int leaderPid, CancellationToken cancellationToken)
        {
            var freezer = cgroups["freezer"];
            var all = cgroups.Values.ToList();
            await Poll.Until(() =>
            {
                if (all.All(c => c.IsEmpty))
                    return true;
                Freeze(freezer, "FROZEN");
                foreach (var pid in all.SelectMany(c => c.Processes()).Distinct())
                    Native.Signal(pid, Native.SigKill);
                Freeze(freezer, "THAWED"); // killed tasks die once thawed
                return all.All(c => c.IsEmpty);
            }, TimeSpan.FromSeconds(60), cancellationToken);
        }

        static void Freeze(CgroupDirectory freezer, string state)
        {
            if (freezer.Has("freezer.state"))
                freezer.Write("freezer.state", state);
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var cgroup in cgroups.Values)
                await CgroupRemoval.Remove(cgroup);
        }
    }
}

/// <summary>An emptied cgroup can take a moment before rmdir succeeds (the last task is still exiting).</summary>
internal static class CgroupRemoval
{
    public static async Task Remove(CgroupDirectory cgroup)
    {
        await Poll.Until(() =>
        {
            try
            {
                cgroup.Remove();
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), CancellationToken.None);
    }
}

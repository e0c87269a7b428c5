using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>
/// cgroup v2: one cgroup per attempt under <c>{CgroupParent}/{workerId}</c> of the unified hierarchy, with
/// <c>cpu.max</c> set to the reserved cpus, <c>memory.max</c> to memoryMb when set (and no swap), and
/// <c>pids.max</c>. Stopping writes <c>cgroup.kill</c>, which kills every process in it at once.
/// </summary>
public sealed class CgroupV2Containment(string hierarchy, string parent, string workerId, int pidsLimit) : IContainment
{
    static readonly string[] Needed = ["cpu", "memory", "pids"];
    const int CpuPeriodMicroseconds = 100_000;

    readonly CgroupDirectory _worker = new(Path.Combine(hierarchy, parent, workerId));

    public string Mode => EnforcementModes.CgroupV2;

    /// <summary>
    /// Whether the hierarchy offers the cpu, memory and pids controllers and this process can hand them down to its
    /// attempts' cgroups (each folder on the way enables them for its children).
    /// </summary>
    public bool Usable()
    {
        try
        {
            var rootCgroup = new CgroupDirectory(hierarchy);
            if (!rootCgroup.Has("cgroup.controllers") || !rootCgroup.Has("cgroup.subtree_control"))
                return false;
            if (!Needed.All(rootCgroup.Read("cgroup.controllers").Split(' ').Contains))
                return false;
            var folder = rootCgroup;
            foreach (var part in Path.Combine(parent, workerId).Split('/', StringSplitOptions.RemoveEmptyEntries))
            {
                folder.Write("cgroup.subtree_control", string.Join(' ', Needed.Select(c => "+" + c)));
                folder = folder.Child(part);
                folder.Create();
            }
            folder.Write("cgroup.subtree_control", string.Join(' ', Needed.Select(c => "+" + c)));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public IAttemptContainer Create(string name, ResourceVector resources)
    {
        var cgroup = _worker.Child(name);
        cgroup.Create();
        cgroup.Write("cpu.max", $"{resources.Cpus * (long)CpuPeriodMicroseconds} {CpuPeriodMicroseconds}");
        if (resources.MemoryMb > 0)
        {
            cgroup.Write("memory.max", (resources.MemoryMb * 1024L * 1024).ToString());
            if (cgroup.Has("memory.swap.max"))
                cgroup.Write("memory.swap.max", "0");
        }
        cgroup.Write("pids.max", pidsLimit.ToString());
        return new Attempt(cgroup);
    }

    /// <summary>Kills and removes every cgroup of this worker; returns how many held processes.</summary>
    public async Task<int> KillLeftovers(CancellationToken cancellationToken)
    {
        var occupied = 0;
        foreach (var cgroup in _worker.Children().ToList())
        {
            if (!cgroup.IsEmpty)
                occupied++;
            await using var attempt = new Attempt(cgroup);
            await attempt.KillAll(0, cancellationToken);
        }
        return occupied;
    }

    /// <summary>The worker's folder, once its attempts' cgroups are gone (an attempt still running keeps it).</summary>
    public Task RemoveUnused() => _worker.Children().Any() ? Task.CompletedTask : CgroupRemoval.Remove(_worker);

    sealed class Attempt(CgroupDirectory cgroup) : IAttemptContainer
    {
        public IReadOnlyList<string> JoinFiles { get; } = [cgroup.File("cgroup.procs")];

        public bool MemoryLimitHit => cgroup.Counter("memory.events", "oom_kill") > 0;

        public Task KillAll(int leaderPid, CancellationToken cancellationToken) =>
            Poll.Until(() =>
            {
                if (cgroup.IsEmpty)
                    return true;
                if (cgroup.Has("cgroup.kill"))
                    cgroup.Write("cgroup.kill", "1");
                else
                    foreach (var pid in cgroup.Processes())
                        Native.Signal(pid, Native.SigKill);
                return cgroup.IsEmpty;
            }, TimeSpan.FromSeconds(60), cancellationToken);

        public ValueTask DisposeAsync() => new(CgroupRemoval.Remove(cgroup));
    }
}

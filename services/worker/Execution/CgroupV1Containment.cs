using System.Collections.Concurrent;
using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>
/// cgroup v1: one cgroup per attempt in each of the cpu, cpuacct, memory, pids and freezer hierarchies, under
/// <c>{CgroupParent}/{workerId}</c>. The CPU quota is the reserved cpus, the memory limit memoryMb when set, and the
/// pids limit <see cref="IsolationOptions.PidsLimit"/>. Stopping freezes the attempt first, so nothing forks while
/// it is being killed.
/// </summary>
/// <remarks>
/// Creating and removing a v1 cgroup waits for the kernel (a few hundred milliseconds on some machines, more under
/// load), which an attempt should not wait for: as many empty cgroups as the worker has job slots are made ahead, in
/// the background, and an attempt takes one; an ended attempt's cgroups are removed in the background.
/// </remarks>
public sealed class CgroupV1Containment(string root, string parent, string workerId, int pidsLimit, int spares) : IContainment
{
    public static readonly string[] Controllers = ["cpu", "cpuacct", "memory", "pids", "freezer"];

    const int CpuPeriodMicroseconds = 100_000;

    readonly ConcurrentQueue<Dictionary<string, CgroupDirectory>> _spares = new();
    int _refilling;
    // Set by RemoveUnused at the stop: no more spares, and the refill in flight, if any, is awaited before the last are removed.
    bool _closed;
    volatile Task _refill = Task.CompletedTask;

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
        var cgroups = _spares.TryDequeue(out var spare) ? spare : Make(name);
        Refill();
        cgroups["cpu"].Write("cpu.cfs_quota_us", (resources.Cpus * (long)CpuPeriodMicroseconds).ToString());
        if (resources.MemoryMb > 0)
            cgroups["memory"].Write("memory.limit_in_bytes", (resources.MemoryMb * 1024L * 1024).ToString());
        cgroups["pids"].Write("pids.max", pidsLimit.ToString());
        return new Attempt(cgroups);
    }

    /// <summary>One cgroup in each hierarchy, made at once, each on a thread of its own: the waits overlap.</summary>
    Dictionary<string, CgroupDirectory> Make(string name)
    {
        var cgroups = Controllers.ToDictionary(c => c, c => WorkerCgroup(c).Child(name));
        try
        {
            Task.WaitAll(cgroups.Values.Select(cgroup => KernelCalls.Run(cgroup.Create)));
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault() is IOException failure)
        {
            throw failure;
        }
        // Here, ahead of the attempt (spares are made in the background), not on its way to starting: every write of
        // the CPU bandwidth walks every cgroup of the hierarchy in the kernel (tg_set_bandwidth, a quarter of a
        // worker's CPU on a machine with 9,000 cgroups), and the period never changes.
        cgroups["cpu"].Write("cpu.cfs_period_us", CpuPeriodMicroseconds.ToString());
        return cgroups;
    }

    void Refill()
    {
        if (Volatile.Read(ref _closed) || Interlocked.Exchange(ref _refilling, 1) == 1)
            return;
        _refill = KernelCalls.Run(() =>
        {
            try
            {
                while (_spares.Count < spares && !Volatile.Read(ref _closed))
                    _spares.Enqueue(Make($"spare-{Guid.NewGuid():N}"));
            }
            catch (IOException)
            {
                // The next attempt makes its own.
            }
            finally
            {
                Volatile.Write(ref _refilling, 0);
            }
        });
    }

    /// <summary>Kills and removes every cgroup of this worker; returns how many held processes.</summary>
    public async Task<int> KillLeftovers(CancellationToken cancellationToken)
    {
        var names = Controllers.SelectMany(c => WorkerCgroup(c).Children().Select(d => Path.GetFileName(d.Path))).Distinct().ToList();
        var occupied = 0;
        foreach (var name in names)
        {
            var cgroups = Controllers.ToDictionary(c => c, c => WorkerCgroup(c).Child(name));
            if (cgroups.Values.Any(c => !c.IsEmpty))
                occupied++;
            var attempt = new Attempt(cgroups);
            await attempt.KillAll(0, cancellationToken);
            await attempt.Remove();
        }
        Refill();
        return occupied;
    }

    public async Task RemoveUnused()
    {
        Volatile.Write(ref _closed, true);
        await _refill.WaitAsync(TimeSpan.FromSeconds(10)); // it makes at most the spare in hand once closed
        while (_spares.TryDequeue(out var spare))
            await new Attempt(spare).Remove();
        // Ended attempts' cgroups are removed in the background: give the last of them a moment.
        await Poll.Until(() => Controllers.All(c => !WorkerCgroup(c).Children().Any()), TimeSpan.FromSeconds(5), CancellationToken.None);
        foreach (var controller in Controllers)
            if (!WorkerCgroup(controller).Children().Any())
                await CgroupRemoval.Remove(WorkerCgroup(controller));
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

        public Task Remove() => Task.WhenAll(cgroups.Values.Select(CgroupRemoval.Remove));

        /// <summary>The attempt is over once its cgroups are empty; removing them needs no one to wait.</summary>
        public ValueTask DisposeAsync()
        {
            _ = Remove();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>An emptied cgroup can take a moment before rmdir succeeds (the last task is still exiting).</summary>
internal static class CgroupRemoval
{
    public static async Task Remove(CgroupDirectory cgroup)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        for (var wait = 10; ; wait = Math.Min(wait * 2, 200))
        {
            try
            {
                await KernelCalls.Run(cgroup.Remove); // rmdir blocks in the kernel: never on the caller's thread or the pool
                return;
            }
            catch (IOException) when (DateTime.UtcNow < until)
            {
                await Task.Delay(wait);
            }
            catch (IOException)
            {
                return; // still busy after 10 s: the next start's leftover sweep removes it
            }
        }
    }
}

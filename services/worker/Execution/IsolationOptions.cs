namespace Bus.Worker.Execution;

/// <summary>
/// How the <c>shell</c> service confines the jobs it runs: as whom, where, with which environment, and how their
/// processes are contained. Bound from the <c>Worker</c> section, next to <see cref="WorkerOptions"/>. See
/// docs/security.md for what each choice guarantees.
/// </summary>
public sealed class IsolationOptions
{
    public const string Section = WorkerOptions.Section;

    /// <summary>
    /// The account jobs run as. Default <c>bus-job</c>, which <c>infra/up.sh</c> creates: no login shell, no home, no
    /// groups of its own. Only a worker running as root can switch to it; a worker running as another user runs jobs
    /// as itself (and says so at start-up). <c>root</c> is refused unless <see cref="AllowRoot"/> is set.
    /// </summary>
    public string RunAs { get; set; } = "bus-job";

    /// <summary>
    /// Lets jobs run as root: when <see cref="RunAs"/> is <c>root</c>, or when the worker runs as root and RunAs is
    /// empty. Default false: the worker refuses to start rather than hand every tenant the machine.
    /// </summary>
    public bool AllowRoot { get; set; }

    /// <summary>
    /// Where each attempt gets its own working directory (<c>{ScratchRoot}/{jobId}-{attempt}</c>, mode 0700, owned by
    /// the job user); it is also the job's <c>HOME</c> and <c>TMPDIR</c>. Created by the worker, owned by it, and not
    /// listable by jobs. Default <c>/var/tmp/bus-jobs</c>.
    /// </summary>
    public string ScratchRoot { get; set; } = "/var/tmp/bus-jobs";

    /// <summary>Keeps each attempt's working directory after it ends, for debugging. Default false: removed.</summary>
    public bool KeepScratch { get; set; }

    /// <summary>
    /// How an attempt's processes are contained: <c>auto</c> (default) picks <c>cgroup-v2</c> where the unified
    /// hierarchy has the cpu, memory and pids controllers and is writable, else <c>cgroup-v1</c> where the cpu, cpuacct,
    /// memory, pids and freezer hierarchies are writable, else <c>process-group</c> (a new session per attempt, killed
    /// as a group; no resource limits). Naming a mode forces it; the worker refuses to start if a cgroup mode it was
    /// given cannot be used.
    /// </summary>
    public string Enforcement { get; set; } = EnforcementModes.Auto;

    /// <summary>
    /// Where the cgroup filesystems are mounted. Default <c>/sys/fs/cgroup</c>: v2 is looked for there and at its
    /// <c>unified</c> subfolder, v1 controllers in <c>/sys/fs/cgroup/&lt;controller&gt;</c>.
    /// </summary>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>
    /// The cgroup, relative to each hierarchy's root, under which each worker keeps one cgroup per attempt
    /// (<c>{CgroupParent}/{workerId}/...</c>). A restarted worker kills whatever it finds under its own folder before it
    /// recovers. Default <c>bus</c>.
    /// </summary>
    public string CgroupParent { get; set; } = "bus";

    /// <summary>The most processes and threads one attempt may have at once (the pids controller). Default 512.</summary>
    public int PidsLimit { get; set; } = 512;

    /// <summary>
    /// The base environment every job gets, before the variables its submission asks for and the <c>BUS_*</c> ones
    /// the worker sets. Nothing of the worker's own environment is passed on. Default <c>PATH</c> and <c>LANG</c>;
    /// <c>HOME</c>, <c>TMPDIR</c>, <c>USER</c> and <c>LOGNAME</c> are set per attempt. Keys given here are added to
    /// the defaults or replace them; an empty value removes one.
    /// </summary>
    public Dictionary<string, string> BaseEnvironment { get; set; } = new()
    {
        ["PATH"] = "/usr/local/bin:/usr/bin:/bin",
        ["LANG"] = "C.UTF-8",
    };
}

/// <summary>The values of <see cref="IsolationOptions.Enforcement"/>, also what a worker registers as its enforcement.</summary>
public static class EnforcementModes
{
    public const string Auto = "auto";
    public const string CgroupV2 = "cgroup-v2";
    public const string CgroupV1 = "cgroup-v1";
    public const string ProcessGroup = "process-group";

    public static readonly string[] All = [Auto, CgroupV2, CgroupV1, ProcessGroup];
}

using System.Globalization;
using Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution;

/// <summary>
/// Who a job runs as, where, and with which environment. Resolved once at start-up: a worker running as root runs
/// jobs as <see cref="IsolationOptions.RunAs"/> and refuses to run them as root unless allowed; a worker running as
/// another user runs them as itself.
/// </summary>
public sealed class JobSandbox
{
    readonly IsolationOptions _options;

    public JobSandbox(IOptions<IsolationOptions> options, ILogger<JobSandbox> logger)
    {
        _options = options.Value;
        var workerIsRoot = Native.EffectiveUserId() == 0;
        if (!workerIsRoot)
        {
            User = null;
            Description = $"the worker's own user (uid {Native.EffectiveUserId()}): only root can switch to Worker:RunAs '{_options.RunAs}'";
        }
        else if (string.IsNullOrEmpty(_options.RunAs))
        {
            User = null;
            Description = "root (Worker:RunAs is empty)";
        }
        else
        {
            User = JobUser.Find(_options.RunAs) ?? throw new InvalidOperationException(
                $"Worker:RunAs names user '{_options.RunAs}', which does not exist; infra/up.sh creates bus-job, or set Worker:RunAs");
            Description = $"user {User.Name} (uid {User.Uid})";
        }
        var runsAsRoot = workerIsRoot && (User is null || User.IsRoot);
        if (runsAsRoot && !_options.AllowRoot)
            throw new InvalidOperationException(
                "Jobs would run as root; set Worker:RunAs to an unprivileged user, or Worker:AllowRoot to true to allow it");
        if (runsAsRoot)
            logger.LogWarning("Jobs run as root: Worker:AllowRoot is set");
        logger.LogInformation("Jobs run as {User}, in folders under {ScratchRoot}", Description, _options.ScratchRoot);
        PrepareScratchRoot();
        if (User is not null)
            ProtectConfiguration(logger);
    }

    /// <summary>
    /// The worker's configuration files may hold credentials (connection strings), and the build leaves them readable
    /// by everyone; a job running as another user must not read them, so they become readable by the worker only.
    /// </summary>
    static void ProtectConfiguration(ILogger logger)
    {
        const UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "appsettings*.json"))
        {
            var mode = File.GetUnixFileMode(file);
            if ((mode & others) == 0)
                continue;
            File.SetUnixFileMode(file, mode & ~others);
            logger.LogInformation("Made {File} readable by the worker only", file);
        }
    }

    /// <summary>The user to switch to, or null to run jobs as the worker's own user.</summary>
    public JobUser? User { get; }

    /// <summary>As whom jobs run, in words for the log.</summary>
    public string Description { get; }

    /// <summary>
    /// The scratch root belongs to the worker and lets others only pass through (0711), so a job can reach its own
    /// folder but not list or enter another attempt's.
    /// </summary>
    void PrepareScratchRoot()
    {
        var root = new DirectoryInfo(_options.ScratchRoot);
        if (root.Exists && root.LinkTarget is not null)
            throw new InvalidOperationException($"Worker:ScratchRoot {root.FullName} is a symbolic link; give a real folder");
        root.Create();
        File.SetUnixFileMode(root.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    /// <summary>A fresh working directory for one attempt, owned by the job user, mode 0700.</summary>
    public string CreateWorkingDirectory(string name)
    {
        var path = Path.Combine(_options.ScratchRoot, name);
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true); // left by a worker that died; nobody else may use it
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (User is not null)
            Native.ChangeOwner(path, User.Uid, User.Gid);
        return path;
    }

    /// <summary>Removes an attempt's working directory, unless <see cref="IsolationOptions.KeepScratch"/> keeps it.</summary>
    public void RemoveWorkingDirectory(string path)
    {
        if (!_options.KeepScratch && Directory.Exists(path))
            Directory.Delete(path, recursive: true);
    }

    /// <summary>
    /// Everything the job sees in its environment: the base environment, the submission's variables, then the ones the
    /// worker sets about the job, which a submission cannot override.
    /// </summary>
    public Dictionary<string, string> Environment(RunJob job, string workingDirectory, IReadOnlyList<string> gpus)
    {
        var environment = _options.BaseEnvironment.Where(e => e.Value.Length > 0).ToDictionary(e => e.Key, e => e.Value);
        var userName = User?.Name ?? System.Environment.UserName;
        environment["HOME"] = workingDirectory;
        environment["TMPDIR"] = workingDirectory;
        environment["USER"] = userName;
        environment["LOGNAME"] = userName;
        foreach (var (name, value) in job.Environment ?? new Dictionary<string, string>())
            environment[name] = value;
        environment["PWD"] = workingDirectory; // as a shell would set it, whatever the submission said; the launcher is not one
        environment["BUS_JOB_ID"] = job.JobId.ToString();
        environment["BUS_ATTEMPT"] = job.Attempt.ToString(CultureInfo.InvariantCulture);
        environment["BUS_CPUS"] = job.Resources.Cpus.ToString(CultureInfo.InvariantCulture);
        environment["BUS_MEMORY_MB"] = job.Resources.MemoryMb.ToString(CultureInfo.InvariantCulture);
        environment["BUS_GPUS"] = gpus.Count.ToString(CultureInfo.InvariantCulture);
        // Always set, so a job that reserved no GPU sees none rather than all of them.
        environment["CUDA_VISIBLE_DEVICES"] = string.Join(',', gpus);
        return environment;
    }

    /// <summary>
    /// The program every attempt starts through: <c>bus-launch</c>, built with the worker from
    /// <c>Execution/bus-launch.c</c> and copied next to its assembly.
    /// </summary>
    public static string LauncherPath { get; } = Path.Combine(AppContext.BaseDirectory, LauncherName);

    /// <summary>
    /// The launcher's argv, then the job's. The launcher writes its own pid into each of the attempt's cgroups, so it
    /// and everything it starts from then on are contained before the job's code runs; it then starts a session of its
    /// own, so the attempt has a process group of its own led by the process the worker started; the job's process
    /// drops to the job user, with no supplementary groups and no way to gain privileges back (<c>no_new_privs</c>:
    /// setuid programs do not elevate), and execs the job. One small program does what two shells, <c>setsid</c> and
    /// <c>setpriv</c> did: two execs a job instead of five.
    /// <para>
    /// The job's <paramref name="environment"/> travels as arguments, and the launcher itself starts with an empty
    /// environment: it runs as the worker's user (root) until the job's process drops, and a job's <c>LD_PRELOAD</c>
    /// (a library another job left in /tmp) in the launcher's own environment would run as root. Only the job's
    /// program, already the job user, gets the job's environment.
    /// </para>
    /// <para>
    /// First, the launcher leaves a watchdog behind, reading the stdin pipe from the worker: the worker writes
    /// <see cref="AttemptOverLine"/> when the attempt is over, and a worker that dies (kill -9, a crash) closes the pipe
    /// without it, so the watchdog kills the attempt's process group at once. A job must not outlive its worker: nobody
    /// would see it end, and the job is run again elsewhere, so a job that finished while its worker was dead would
    /// have run twice. The job's own stdin is /dev/null, so it can neither read nor hold the pipe. The watchdog runs
    /// as the worker's user; the job cannot signal it or reach its descriptors. It is forked before the launcher joins
    /// the cgroups and before it starts its session, so it is in neither the attempt's cgroups nor its process group:
    /// an attempt whose job left nothing running is empty the moment its job exits, and the worker's kill of leftovers
    /// finds nothing to freeze or signal; the watchdog exits by itself on the worker's line.
    /// </para>
    /// <para>
    /// The launcher stays the job's parent (the group's leader, the worker's user) and writes the job's exit status to
    /// <paramref name="exitNote"/> the moment the job exits. The note outlives a worker killed between the job's exit
    /// and the worker's own record of it, so the restarted worker reports how the attempt ended instead of counting it
    /// lost and running it again (see <see cref="Journal.AttemptJournal.ExitNoted"/>). Only a watchdog kill beats the
    /// note to it, and then the job was killed too.
    /// </para>
    /// </summary>
    public IEnumerable<string> LauncherArguments(IReadOnlyList<string> joinFiles, string exitNote,
        IReadOnlyDictionary<string, string> environment, IReadOnlyList<string> command)
    {
        yield return exitNote;
        yield return User is null ? "-" : User.Uid.ToString(CultureInfo.InvariantCulture);
        yield return User is null ? "-" : User.Gid.ToString(CultureInfo.InvariantCulture);
        foreach (var file in joinFiles)
            yield return file;
        yield return "--";
        foreach (var (name, value) in environment)
            yield return $"{name}={value}";
        yield return "--";
        foreach (var argument in command)
            yield return argument;
    }

    /// <summary>What the worker writes to the launcher's watchdog when the attempt is over, so it exits without a kill.</summary>
    public const string AttemptOverLine = "over";

    /// <summary>The launcher's file name, which also starts each of its complaints ("bus-launch: ...").</summary>
    public const string LauncherName = "bus-launch";

    /// <summary>The launcher's exit code when the launch went wrong before the job's program was reached.</summary>
    public const int LaunchFailedExitCode = 125;

    /// <summary>How the launcher says it could not join the attempt's cgroups (its exit code is then 125).</summary>
    public const string JoinFailedPrefix = LauncherName + ": cannot join ";

    /// <summary>How the launcher says it could not exec the job's program (its exit code is then 126 or 127).</summary>
    public const string ExecFailedPrefix = LauncherName + ": failed to execute ";
}

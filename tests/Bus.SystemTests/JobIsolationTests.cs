using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>
/// Jobs run isolated and held to what they reserved, proved with the real worker and real processes: as an
/// unprivileged user, with a clean environment, in a folder and a cgroup of their own (or a process group where
/// cgroups are unavailable), with GPUs bound to them and their output capped. The tests' jobs ask for a language only
/// this class's workers offer, so they run nowhere else.
/// </summary>
public sealed class JobIsolationTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    const string Language = "iso";
    const string WorkerId = "iso-worker";
    const string Secret = "ISOLATION_TEST_SECRET";
    static readonly string SecretValue = $"do-not-leak-{Guid.NewGuid():N}";

    [Fact]
    public async Task A_job_sees_only_its_clean_environment_and_none_of_the_workers_secrets()
    {
        await Worker();
        var job = await Run(["/usr/bin/env"], env: new Dictionary<string, string> { ["GREETING"] = "hello there" });

        var variables = ((string)job["output"]!).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
        Assert.Equal("Completed", (string?)job["state"]);
        Assert.DoesNotContain(SecretValue, (string)job["output"]!);
        Assert.DoesNotContain(variables.Keys, name => name.StartsWith("ConnectionStrings", StringComparison.Ordinal)
            || name.StartsWith("RabbitMq", StringComparison.Ordinal) || name == Secret || name.StartsWith("DOTNET_", StringComparison.Ordinal));
        Assert.Equal("hello there", variables["GREETING"]);
        Assert.Equal((string)job["jobId"]!, variables["BUS_JOB_ID"]);
        Assert.Equal(("1", "1", "0", "0"), (variables["BUS_ATTEMPT"], variables["BUS_CPUS"], variables["BUS_MEMORY_MB"], variables["BUS_GPUS"]));
        Assert.Equal(["BUS_ATTEMPT", "BUS_CPUS", "BUS_GPUS", "BUS_JOB_ID", "BUS_MEMORY_MB", "CUDA_VISIBLE_DEVICES", "GREETING", "HOME", "LANG",
            "LOGNAME", "PATH", "PWD", "TMPDIR", "USER"], variables.Keys.Order()); // PWD: the worker sets it, as a shell would
    }

    [Fact]
    public async Task A_jobs_loader_variables_reach_only_its_own_program_not_the_launcher_that_runs_as_root()
    {
        // A library named in LD_PRELOAD is loaded by every dynamically linked program started with it, and the loader
        // says so when it cannot find it. Were the job's environment the launcher's too, the launcher, which runs as
        // root until the job drops, would load (and here complain about) it as well: a job could run code as root.
        await Worker();
        const string library = "/nonexistent/bus-test-preload.so";
        var job = await Run(["/bin/echo", "ran"], env: new Dictionary<string, string> { ["LD_PRELOAD"] = library });

        var output = (string)job["output"]!;
        Assert.Equal("Completed", (string?)job["state"]);
        Assert.Contains("ran", output);
        Assert.Equal(1, output.Split('\n').Count(line => line.Contains(library, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_job_runs_as_an_unprivileged_user_in_its_own_folder_which_is_removed_afterwards()
    {
        await Worker();
        var job = await Run(["/bin/sh", "-c", "id -u; id -un; pwd; stat -c %U:%a ."]);

        var lines = ((string)job["output"]!).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Completed", (string?)job["state"]);
        Assert.NotEqual("0", lines[0]);
        Assert.Equal("bus-job", lines[1]);
        Assert.StartsWith("/var/tmp/bus-jobs/", lines[2]);
        Assert.Equal("bus-job:700", lines[3]);
        Assert.False(Directory.Exists(lines[2]), $"{lines[2]} should be removed once the attempt ended");
    }

    [Fact]
    public async Task A_job_cannot_read_the_workers_configuration_or_the_environment_file_with_the_passwords()
    {
        await Worker();
        var appsettings = Path.Combine(TestEnvironment.RepoRoot, "services", "worker", "bin", BuildConfiguration, "net10.0", "appsettings.json");
        var envFile = Path.Combine(TestEnvironment.RepoRoot, ".state", "env");
        Assert.True(File.Exists(appsettings) && File.Exists(envFile));

        var job = await Run(["/bin/sh", "-c", $"cat {appsettings}; echo \"exit $?\"; cat {envFile}; echo \"exit $?\""]);

        var output = (string)job["output"]!;
        Assert.Equal(2, output.Split('\n').Count(l => l.EndsWith("Permission denied", StringComparison.Ordinal)));
        Assert.DoesNotContain("ConnectionStrings", output);
        Assert.DoesNotContain("exit 0", output);
    }

    [Fact]
    public async Task A_background_child_is_gone_once_its_job_ended_by_itself_timed_out_or_was_cancelled()
    {
        await Worker();
        // Ended by itself: the shell exits at once, leaving its child behind.
        var (ended, endedChild) = await StartWithBackgroundChild("exit 0");
        Assert.Equal("Completed", (string?)(await system.WaitForJob(ended, "Completed", "Failed"))["state"]);
        AssertGone(endedChild);

        var (timedOut, timedOutChild) = await StartWithBackgroundChild("wait", timeoutSeconds: 3);
        Assert.Equal("TimedOut", (string?)(await system.WaitForJob(timedOut, "TimedOut", "Completed", "Failed"))["state"]);
        AssertGone(timedOutChild);

        var (cancelled, cancelledChild) = await StartWithBackgroundChild("wait");
        Assert.Equal(HttpStatusCode.Accepted, (await system.Api.PostAsync($"/api/v1/jobs/{cancelled}/cancel", null)).StatusCode);
        Assert.Equal("Cancelled", (string?)(await system.WaitForJob(cancelled, "Cancelled", "Completed", "Failed"))["state"]);
        AssertGone(cancelledChild);
    }

    [Fact]
    public async Task A_background_child_is_gone_once_its_worker_stopped_with_SIGTERM()
    {
        var worker = await system.StartWorker("iso-term", 2, ("Worker__Languages__0", "iso-term"), ("Worker__ShutdownGracePeriod", "00:00:01"));
        var (jobId, child) = await StartWithBackgroundChild("wait", language: "iso-term", maxAttempts: 1);

        await worker.Terminate(TimeSpan.FromSeconds(60));

        Assert.Equal(0, worker.ExitCode);
        AssertGone(child);
        await system.Api.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
    }

    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_leaves_no_cgroup_behind()
    {
        var worker = await system.StartWorker("iso-tidy", 2, ("Worker__Languages__0", "iso-tidy"));
        var job = await system.WaitForJob(await Submit(["/bin/true"], language: "iso-tidy"), "Completed", "Failed");
        Assert.Equal("Completed", (string?)job["state"]);
        var folders = system.CgroupFolders("iso-tidy");
        Assert.Contains(folders, Directory.Exists); // its own, holding the spares made ahead for the next attempts

        await worker.Terminate(TimeSpan.FromSeconds(60));

        // Left behind, they would stay in the kernel for good, and each CPU quota written walks all of them.
        Assert.Equal(0, worker.ExitCode);
        Assert.DoesNotContain(folders, Directory.Exists);
    }

    [Fact]
    public async Task A_restarted_worker_kills_what_its_killed_predecessor_left_in_its_cgroups_before_the_job_is_retried()
    {
        var first = await system.StartWorker("iso-phoenix", 2, ("Worker__Languages__0", "iso-phoenix"));
        // The child leaves the job's process group, so the launcher's watchdog, which kills that group when the
        // worker dies, cannot reach it: only the cgroup still holds it.
        var (jobId, child) = await StartWithBackgroundChild("wait", language: "iso-phoenix", maxAttempts: 1, leaveGroup: true);

        first.KillHard();
        Assert.True(Processes.Alive(child));
        var second = system.StartWorkerProcess("iso-phoenix", ("Worker__Cpus", "2"), ("Worker__Languages__0", "iso-phoenix"));

        // Leftovers are killed before recovery, and recovery runs before the worker registers.
        await Eventually.Get(() => Task.FromResult(second.Output), o => o.Contains("Worker iso-phoenix registered"),
            TimeSpan.FromSeconds(60), "the restarted worker registered");
        AssertGone(child);
        Assert.Contains("Killed what was left of 1 attempts", second.Output);
        Assert.Equal("Failed", (string?)(await system.WaitForJob(jobId, "Failed", "Completed"))["state"]);
    }

    [Fact]
    public async Task A_cpu_hog_reserving_one_cpu_gets_about_one_cpu_measured_by_its_cgroup()
    {
        await Worker();
        // Two busy loops for 3 s; the job reads its own cgroup's quota and usage (in ns) around them.
        var job = await Run(["/bin/sh", "-c", """
            cpu=$(awk -F: '$2 == "cpu" { print $3 }' /proc/self/cgroup)
            acct=$(awk -F: '$2 == "cpuacct" { print $3 }' /proc/self/cgroup)
            cat /sys/fs/cgroup/cpu$cpu/cpu.cfs_quota_us
            u0=$(cat /sys/fs/cgroup/cpuacct$acct/cpuacct.usage); t0=$(date +%s%N)
            (while :; do :; done) & (while :; do :; done) &
            sleep 3
            echo $(( $(cat /sys/fs/cgroup/cpuacct$acct/cpuacct.usage) - u0 )) $(( $(date +%s%N) - t0 ))
            """], cpus: 1);

        var lines = ((string)job["output"]!).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Completed", (string?)job["state"]);
        Assert.Equal("100000", lines[0]);
        var (used, elapsed) = (double.Parse(lines[1].Split(' ')[0]), double.Parse(lines[1].Split(' ')[1]));
        // Held to its one cpu (with room for the last period's slack); without the quota two loops take both cores.
        // No lower bound worth the name: on a machine busy with other work the hog may get much less than its cpu.
        Assert.InRange(used / elapsed, 0.01, 1.15);
    }

    [Fact]
    public async Task A_job_over_its_memory_limit_ends_Failed_with_the_memory_error()
    {
        await Worker();
        var job = await Run(["/usr/bin/perl", "-e", "my $x = 'x' x (512 * 1024 * 1024); print length $x"], memoryMb: 64);

        Assert.Equal(("Failed", "exceeded its memory limit of 64 MB"), ((string?)job["state"], (string?)job["error"]));
    }

    [Fact]
    public async Task Two_jobs_with_one_gpu_each_on_a_two_gpu_worker_see_different_devices()
    {
        await Worker();
        // Each waits (bounded) until both run, so they surely hold their GPUs at the same time.
        var meeting = Path.Combine(Path.GetTempPath(), $"bus-gpu-{Guid.NewGuid():N}");
        string[] command = ["/bin/sh", "-c",
            $"echo $CUDA_VISIBLE_DEVICES; mkdir -p {meeting}; touch {meeting}/$BUS_JOB_ID; i=0; while [ $(ls {meeting} | wc -l) -lt 2 ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done"];
        var first = await Submit(command, gpus: 1);
        var second = await Submit(command, gpus: 1);

        var jobs = new[] { await system.WaitForJob(first, "Completed", "Failed"), await system.WaitForJob(second, "Completed", "Failed") };

        var seen = jobs.Select(j => ((string)j["output"]!).Trim()).ToArray();
        Assert.Equal(["gpu-a", "gpu-b"], seen.Order());
        Assert.All(jobs, j => Assert.Equal([((string)j["output"]!).Trim()], j["gpuDevices"]!.AsArray().Select(d => (string)d!)));
        Directory.Delete(meeting, recursive: true);
    }

    [Fact]
    public async Task Output_is_capped_even_for_one_endless_line_and_its_tail_is_valid_UTF8()
    {
        await Worker();
        var endless = await Run(["/bin/sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' x"]);
        // 3 bytes a line; the tail's 64 KiB start inside an "é", which is dropped rather than shown broken.
        var accents = await Run(["/bin/sh", "-c", "yes é 2>/dev/null | head -c 300002"]);

        var line = (string)endless["output"]!;
        Assert.Equal(64 * 1024, line.Length);
        Assert.All(line, c => Assert.Equal('x', c));
        var text = (string)accents["output"]!;
        Assert.InRange(Encoding.UTF8.GetByteCount(text), 64 * 1024 - 3, 64 * 1024);
        Assert.DoesNotContain('\uFFFD', text);
        Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => Assert.Equal("é", l));
    }

    [Theory]
    [InlineData(false, "no such file or directory")]
    [InlineData(true, "permission denied")]
    public async Task A_program_that_cannot_be_executed_fails_at_once_and_is_not_retried(bool exists, string reason)
    {
        await Worker();
        // A temporary file is created without execute permission.
        var program = exists ? Path.GetTempFileName() : $"/no/such/program-{Guid.NewGuid():N}";
        var job = await Run([program], maxAttempts: 3);

        Assert.Equal(("Failed", 1, $"could not start '{program}': {reason}"), ((string?)job["state"], (int?)job["attempt"], (string?)job["error"]));
        if (exists)
            File.Delete(program);
    }

    // The gateway bounds argv (64 KiB) and env (32 KiB) far below the kernel's limits (128 KiB for one argument, about
    // 2 MiB in all), so an argument list the kernel would refuse never reaches a worker: it is refused at the edge. The
    // worker's own fail-fast for E2BIG stays, for commands that reach it by another way.
    [Fact]
    public async Task An_argument_list_too_long_is_refused_at_submission_and_never_becomes_a_job()
    {
        var requestId = $"iso-{Guid.NewGuid():N}";
        var (status, problem) = await system.Submit(new { requestId, command = new[] { "/bin/echo", new string('x', 200_000) } });

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("command", problem["errors"]!.AsObject().Select(e => e.Key));
        await using var count = system.Database.DataSource.CreateCommand("SELECT count(*) FROM job_requests WHERE request_id = $1");
        count.Parameters.AddWithValue(requestId);
        Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task Workers_say_how_they_contain_jobs_and_fall_back_to_process_groups_where_cgroups_are_unavailable()
    {
        await Worker();
        var fallback = await system.StartWorker("iso-nocgroup", 2, ("Worker__Languages__0", "iso-nocgroup"),
            ("Worker__CgroupRoot", Path.Combine(Path.GetTempPath(), $"no-cgroups-{Guid.NewGuid():N}")));

        var workers = (await system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!;
        string? Enforcement(string id) => (string?)workers.First(w => (string?)w!["workerId"] == id)!["enforcement"];
        Assert.Contains(Enforcement(WorkerId), new[] { "cgroup-v1", "cgroup-v2" });
        Assert.Equal("process-group", Enforcement("iso-nocgroup"));
        Assert.Single(fallback.Output.Split('\n'), l => l.Contains("No writable cgroup"));

        // Still no survivor: the process group goes when the job times out.
        var (jobId, child) = await StartWithBackgroundChild("wait", language: "iso-nocgroup", timeoutSeconds: 3);
        Assert.Equal("TimedOut", (string?)(await system.WaitForJob(jobId, "TimedOut", "Completed", "Failed"))["state"]);
        AssertGone(child);
    }

    [Fact]
    public async Task A_worker_refuses_to_run_jobs_as_root_unless_allowed()
    {
        var refused = system.StartWorkerProcess("iso-root", ("Worker__RunAs", "root"), ("Worker__Languages__0", "iso-root"));

        await refused.Exited(TimeSpan.FromSeconds(60)); // refusing to start
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Jobs would run as root", refused.Output);
    }

    [Fact]
    public async Task A_configured_service_list_replaces_the_default_and_one_without_an_executor_is_refused()
    {
        await Worker(); // configured with shell and noop, over an appsettings.json that says shell
        var workers = (await system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!;
        Assert.Equal(["shell", "noop"], workers.First(w => (string?)w!["workerId"] == WorkerId)!["services"]!.AsArray().Select(s => (string)s!));

        var refused = system.StartWorkerProcess("iso-asr", ("Worker__Services__0", "shell"), ("Worker__Services__1", "asr"));
        await refused.Exited(TimeSpan.FromSeconds(60)); // refusing to start
        Assert.Contains("Worker:Services names a service this worker has no executor for", refused.Output);
    }

    [Fact]
    public async Task The_env_field_is_validated_by_name_count_and_size()
    {
        var (badName, badNameBody) = await system.Submit(new { requestId = $"env-{Guid.NewGuid():N}", command = new[] { "/bin/true" }, env = new Dictionary<string, string> { ["1BAD"] = "x" } });
        var (reserved, _) = await system.Submit(new { requestId = $"env-{Guid.NewGuid():N}", command = new[] { "/bin/true" }, env = new Dictionary<string, string> { ["BUS_JOB_ID"] = "x" } });
        var (tooMany, _) = await system.Submit(new
        {
            requestId = $"env-{Guid.NewGuid():N}", command = new[] { "/bin/true" }, env = Enumerable.Range(0, 65).ToDictionary(i => $"V{i}", i => "x"),
        });
        var (tooBig, _) = await system.Submit(new
        {
            requestId = $"env-{Guid.NewGuid():N}", command = new[] { "/bin/true" }, env = new Dictionary<string, string> { ["BIG"] = new string('x', 40_000) },
        });

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], [badName, reserved, tooMany, tooBig]);
        Assert.Contains("env", badNameBody["errors"]!.AsObject().Select(e => e.Key));
    }

    /// <summary>This class's main worker: 2 cpus, 2 fake GPUs, and a secret in its environment.</summary>
    async Task Worker()
    {
        if ((await system.WorkerIds()).Contains(WorkerId))
            return;
        await system.StartWorker(WorkerId, 2, ("Worker__Languages__0", Language), ("Worker__MaxConcurrentJobs", "4"),
            ("Worker__GpuDevices__0", "gpu-a"), ("Worker__GpuDevices__1", "gpu-b"), (Secret, SecretValue));
    }

    async Task<string> Submit(string[] command, int cpus = 1, int memoryMb = 0, int gpus = 0, int maxAttempts = 1, int timeoutSeconds = 120,
        string language = Language, Dictionary<string, string>? env = null)
    {
        var (status, accepted) = await system.Submit(new
        {
            requestId = $"{language}-{Guid.NewGuid():N}",
            command,
            resources = new { cpus, memoryMb, gpus },
            constraints = new { language },
            maxAttempts,
            timeoutSeconds,
            env,
        });
        Assert.True(status == HttpStatusCode.Accepted, $"submission refused: {status} {accepted}");
        return (string)accepted["jobId"]!;
    }

    async Task<JsonObject> Run(string[] command, int cpus = 1, int memoryMb = 0, int maxAttempts = 1, Dictionary<string, string>? env = null) =>
        await system.WaitForJob(await Submit(command, cpus, memoryMb, maxAttempts: maxAttempts, env: env), "Completed", "Failed", "TimedOut");

    /// <summary>
    /// Starts a job whose shell leaves a long sleep running in the background, then does <paramref name="then"/>;
    /// returns the job and the background child's pid once the job runs.
    /// </summary>
    async Task<(string JobId, int Child)> StartWithBackgroundChild(string then, string language = Language, int timeoutSeconds = 120,
        int maxAttempts = 1, bool leaveGroup = false)
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"bus-child-{Guid.NewGuid():N}");
        var jobId = await Submit(["/bin/sh", "-c", $"{(leaveGroup ? "setsid " : "")}sleep 300 >/dev/null 2>&1 & echo $! > {pidFile}.tmp; mv {pidFile}.tmp {pidFile}; {then}"],
            language: language, timeoutSeconds: timeoutSeconds, maxAttempts: maxAttempts);
        var pid = await Eventually.Get(() => Task.FromResult(File.Exists(pidFile) ? int.Parse(File.ReadAllText(pidFile).Trim()) : 0),
            p => p > 0, TimeSpan.FromSeconds(60), $"job {jobId} starting its background child");
        File.Delete(pidFile);
        return (jobId, pid);
    }

    static void AssertGone(int pid) => Assert.False(Processes.Alive(pid), $"the background child {pid} should be gone");

    static string BuildConfiguration => AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}")
        ? "Release" : "Debug";
}

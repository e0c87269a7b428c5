using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>The CLI as a process, end to end against the running system: what a terminal user sees and what scripts rely on.</summary>
public sealed class CliTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    Task<CliRun> Cli(params string[] arguments) => CliRun.Start(system, RunningSystem.AdminKey, arguments);

    [Fact]
    public async Task Submit_with_wait_prints_the_jobs_output_and_exits_with_its_exit_code()
    {
        var run = await Cli("submit", "--wait", "--max-attempts", "1", "--cpus", "2", "--", "/bin/sh", "-c", "echo from-the-job; exit 3");

        Assert.True(run.ExitCode == 3, run.ToString());
        Assert.Equal("from-the-job\n", run.Stdout);
        Assert.Contains("Failed, exit code 3", run.Stderr);
    }

    [Fact]
    public async Task Submit_with_array_makes_one_job_per_task_each_knowing_its_index_and_a_repeat_makes_none()
    {
        var requestId = $"cli-array-{Guid.NewGuid():N}";
        string[] command = ["submit", "--array", "3", "--request-id", requestId, "--", "/bin/sh", "-c", "echo task $ARRAY_TASK_ID"];

        var first = await Cli([.. command.Take(1), "--json", .. command.Skip(1)]);

        Assert.True(first.ExitCode == 0, first.ToString());
        var jobs = JsonNode.Parse(first.Stdout)!["jobs"]!.AsArray();
        Assert.Equal([$"{requestId}-1", $"{requestId}-2", $"{requestId}-3"], jobs.Select(j => (string?)j!["requestId"]));
        Assert.All(jobs, j => Assert.Equal("accepted", (string?)j!["status"]));
        for (var i = 0; i < 3; i++)
            Assert.Equal($"task {i + 1}\n", (string?)(await system.WaitForJob((string)jobs[i]!["jobId"]!, "Completed"))["output"]);

        var again = await Cli(command);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Equal($"Submitted array {requestId}: 0 new, 3 already accepted, 0 refused", again.Stdout.Trim());
    }

    [Fact]
    public async Task A_submitted_job_shows_in_list_and_status_and_its_output_prints_raw()
    {
        var requestId = $"cli-{Guid.NewGuid():N}";
        var submitted = await Cli("submit", "--request-id", requestId, "--", "/bin/echo", "hello from the cli");
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        var jobId = submitted.Stdout.Trim().Split(' ').Last();
        Assert.Equal($"Submitted job {jobId}", submitted.Stdout.Trim());
        await system.WaitForJob(jobId, "Completed");

        var list = await Cli("list", "--state", "Completed");
        Assert.True(list.ExitCode == 0, list.ToString());
        var row = list.Stdout.Split('\n').Single(line => line.Contains(jobId));
        Assert.Contains(requestId, row);
        Assert.Contains("Completed", row);

        var status = await Cli("status", "--json", jobId);
        Assert.Equal("Completed", (string?)JsonNode.Parse(status.Stdout)!["state"]);

        var output = await Cli("output", jobId);
        Assert.Equal("hello from the cli\n", output.Stdout);
    }

    [Fact]
    public async Task Cancel_kills_a_running_job_and_a_second_cancel_fails_with_the_apis_reason()
    {
        var submitted = await Cli("submit", "--json", "--", "/bin/sleep", "120");
        var jobId = (string)JsonNode.Parse(submitted.Stdout)!["jobId"]!;
        await system.WaitForJob(jobId, "Running");

        var cancel = await Cli("cancel", jobId);
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        await system.WaitForJob(jobId, "Cancelled");

        var again = await Cli("cancel", jobId);
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("409", again.Stderr);
        Assert.Contains("already finished", again.Stderr);
    }

    [Fact]
    public async Task Watch_follows_a_job_live_until_it_ends()
    {
        var submitted = await Cli("submit", "--json", "--", "/bin/sh", "-c", "sleep 2; echo watched");
        var jobId = (string)JsonNode.Parse(submitted.Stdout)!["jobId"]!;

        var watch = await Cli("watch", jobId);

        Assert.True(watch.ExitCode == 0, watch.ToString());
        var lines = watch.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, line => Assert.Contains(jobId, line));
        Assert.Contains("-> Completed", lines[^1]);
    }

    [Fact]
    public async Task Workers_lists_every_live_worker_with_its_capacity()
    {
        var run = await Cli("workers");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"worker-a\s+ready\s+\d+/2\s", run.Stdout);
        Assert.Matches(@"worker-b\s+ready\s+\d+/4\s", run.Stdout);
    }

    [Fact]
    public async Task Stats_shows_the_clusters_capacity()
    {
        // The snapshot is rebuilt in the background: wait until it counts both workers (2 + 4 cpus).
        await Eventually.Get(async () => (await system.Api.GetFromJsonAsync<JsonObject>("/api/v1/stats"))!,
            stats => (int?)stats["capacity"]?["cpus"] == 6, TimeSpan.FromSeconds(30), "the stats snapshot counting both workers");

        var run = await Cli("stats");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Matches(@"cpus\s+\d+ of 6 allocated", run.Stdout);
    }

    [Fact]
    public async Task An_unknown_api_key_fails_with_exit_code_2_and_says_401()
    {
        var run = await CliRun.Start(system, "not-a-key", "list");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("401", run.Stderr);
    }
}

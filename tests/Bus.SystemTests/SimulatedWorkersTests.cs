using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>
/// One worker process hosting simulated workers (<c>Worker:Simulate</c>), as the scale benchmark runs them: each must
/// be a worker of its own to the rest of the system. They advertise a language no other worker has, and the jobs ask
/// for it, so the jobs can only run on them.
/// </summary>
public sealed class SimulatedWorkersTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static readonly string[] Simulated = ["sim-0001", "sim-0002", "sim-0003", "sim-0004", "sim-0005"];

    [Fact]
    public async Task A_process_simulating_five_workers_makes_five_that_each_heartbeat_run_jobs_and_leave_on_SIGTERM()
    {
        var process = system.StartWorkerProcess("sim",
            ("Worker__Simulate", "5"), ("Worker__Cpus", "2"), ("Worker__Languages__0", "simulated"));

        // Five registrations, each with its own row in workers, and each kept alive by its own heartbeats.
        var joined = await Eventually.Get(Heartbeats, beats => Simulated.All(beats.ContainsKey), TimeSpan.FromSeconds(60),
            "the five simulated workers registered");
        Assert.Equal(Simulated, await WorkerRows());
        await Eventually.Get(Heartbeats, beats => Simulated.All(id => beats.GetValueOrDefault(id) > joined[id]), TimeSpan.FromSeconds(30),
            "every simulated worker heartbeating");

        // Each job takes a whole worker (2 cpus) for a second, so ten submitted at once cannot all run on one.
        var submitted = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => system.Submit(new
        {
            requestId = $"sim-{Guid.NewGuid():N}",
            service = "noop",
            payload = new { durationMs = 1000 },
            resources = new { cpus = 2 },
            constraints = new { language = "simulated" },
        })));
        Assert.All(submitted, s => Assert.Equal(HttpStatusCode.Accepted, s.Status));
        var jobs = await Task.WhenAll(submitted.Select(s => system.WaitForJob((string)s.Body["jobId"]!, "Completed", "Failed")));

        Assert.All(jobs, job => Assert.Equal("Completed", (string?)job["state"]));
        var ranOn = jobs.Select(job => (string)job["workerId"]!).Distinct().ToList();
        Assert.All(ranOn, id => Assert.Contains(id, Simulated));
        Assert.True(ranOn.Count >= 2, $"ten jobs that each fill a worker all ran on {string.Join(", ", ranOn)}");

        await process.Terminate(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
        Assert.Empty((await system.WorkerIds()).Intersect(Simulated));
    }

    /// <summary>The last heartbeat of every live worker, as GET /api/v1/workers shows it.</summary>
    async Task<Dictionary<string, DateTimeOffset>> Heartbeats() =>
        (await system.Api.GetFromJsonAsync<JsonArray>("/api/v1/workers"))!
        .ToDictionary(w => (string)w!["workerId"]!, w => w!["lastHeartbeat"]!.GetValue<DateTimeOffset>());

    async Task<string[]> WorkerRows()
    {
        await using var command = system.Database.DataSource.CreateCommand(
            "SELECT worker_id FROM workers WHERE worker_id LIKE 'sim-%' ORDER BY worker_id");
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
            ids.Add(reader.GetString(0));
        return [.. ids];
    }
}

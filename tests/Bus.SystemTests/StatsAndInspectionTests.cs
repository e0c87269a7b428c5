using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>The stats snapshot, the admin saga inspection and the dashboard page, on the whole running system.</summary>
public sealed class StatsAndInspectionTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static readonly string[] States = ["Pending", "Allocated", "Running", "Completed", "Failed", "Cancelled", "TimedOut"];

    static string RequestId() => $"stats-{Guid.NewGuid():N}";

    [Fact]
    public async Task Stats_show_the_live_workers_their_capacity_and_a_job_that_just_completed()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" } });
        await system.WaitForJob((string)accepted["jobId"]!, "Completed");
        var user = system.Client(RunningSystem.UserKey); // any key will do; stats are not admin-only

        var stats = await Eventually.Get(
            async () => (await user.GetFromJsonAsync<JsonObject>("/api/v1/stats"))!,
            s => (long?)s["completedLastMinute"] >= 1 && (long?)s["jobsByState"]!["Completed"] >= 1,
            TimeSpan.FromSeconds(30), "a snapshot that counts the completed job");

        Assert.Equal(2, (int?)stats["workers"]);
        Assert.Equal(6, (int?)stats["capacity"]!["cpus"]); // worker-a 2 + worker-b 4
        Assert.InRange((int)stats["allocated"]!["cpus"]!, 0, 6);
        Assert.InRange((double)stats["utilization"]!, 0, 1);
        Assert.Equal(States, stats["jobsByState"]!.AsObject().Select(e => e.Key)); // every state, even at 0
        Assert.Equal((long?)stats["jobsByState"]!["Pending"], (long?)stats["pendingCount"]);
        Assert.NotNull(stats["generatedAt"]);
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.Client(null).GetAsync("/api/v1/stats")).StatusCode);
    }

    [Fact]
    public async Task Stats_come_from_a_snapshot_the_background_refreshes()
    {
        // Ten requests at once: computed per request, each would carry its own generation time.
        var burst = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => GeneratedAt()));
        // A refresh (every 5 s by default) may fall inside the burst, so at most two snapshots were seen.
        Assert.InRange(burst.Distinct().Count(), 1, 2);

        // And with nobody asking in between, a newer snapshot appears by itself.
        await Eventually.Get(GeneratedAt, at => at > burst.Max(), TimeSpan.FromSeconds(20), "a newer snapshot");
    }

    [Fact]
    public async Task An_admin_sees_a_jobs_raw_saga_row_and_its_history()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/echo", "inspected" } });
        var jobId = (string)accepted["jobId"]!;
        await system.WaitForJob(jobId, "Completed");

        var saga = (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/sagas/{jobId}"))!;

        var columns = saga["columns"]!.AsObject();
        Assert.Equal(jobId, (string?)columns["job_id"]);
        Assert.Equal("Completed", (string?)columns["current_state"]);
        Assert.Equal("inspected\n", (string?)columns["output"]);
        Assert.Equal(["/bin/echo", "inspected"], columns["command"]!.AsArray().Select(c => (string)c!));
        // Columns the public job view leaves out are there too: the saga's optimistic-concurrency version.
        Assert.True((int?)columns["version"] >= 1);

        // The stored transitions, each from where the one before ended. A job placed as it is submitted goes from
        // Initial straight to Allocated, and one this short may report only its end, so Running is there only if the
        // worker reported the start.
        var history = saga["history"]!.AsArray();
        var moves = history.Select(h => ((string)h!["from"]!, (string)h["to"]!)).ToList();
        Assert.Equal("Initial", moves[0].Item1);
        Assert.Contains(moves[0].Item2, new[] { "Pending", "Allocated" });
        Assert.Contains(moves, m => m.Item2 == "Allocated");
        Assert.Equal("Completed", moves[^1].Item2);
        Assert.All(moves.Zip(moves.Skip(1)), pair => Assert.Equal(pair.First.Item2, pair.Second.Item1));
        Assert.Equal("Submit", (string?)history[0]!["event"]);
        Assert.All(history, h => Assert.NotNull((string?)h!["messageId"]));
        var times = history.Select(h => DateTimeOffset.Parse((string)h!["at"]!)).ToList();
        Assert.Equal(times.Order(), times);
    }

    [Fact]
    public async Task Saga_inspection_is_for_admins_only_and_an_unknown_job_is_not_found()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" } });
        var path = $"/api/v1/sagas/{accepted["jobId"]}";
        await system.WaitForJob((string)accepted["jobId"]!, "Completed");

        // The user key belongs to the job's own tenant, and is still refused: inspection needs the admin flag.
        Assert.Equal(HttpStatusCode.Forbidden, (await system.Client(RunningSystem.UserKey).GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await system.Client(null).GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await system.Api.GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await system.Api.GetAsync($"/api/v1/sagas/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task The_scheduler_serves_its_state_machine_graph_as_json_and_as_mermaid()
    {
        using var scheduler = new HttpClient { BaseAddress = system.ManagementAddresses["scheduler"] };
        var generated = Bus.Scheduler.StateMachines.JobStateGraph.Of(new Bus.Scheduler.StateMachines.JobStateMachine());

        var graph = (await scheduler.GetFromJsonAsync<JsonObject>("/admin/state-machine"))!;
        Assert.Equal(generated.Nodes.Select(n => n.Id), graph["nodes"]!.AsArray().Select(n => (string)n!["id"]!));
        Assert.Contains(graph["edges"]!.AsArray(), e => (string?)e!["from"] == "state:Allocated" && (string?)e["to"] == "event:Started");
        Assert.Equal(generated.ToMermaid(), await scheduler.GetStringAsync("/admin/state-machine?format=mermaid"));

        var bad = await scheduler.GetAsync("/admin/state-machine?format=svg");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_dashboard_page_and_its_script_are_served_without_a_key()
    {
        var anonymous = system.Client(null);

        var page = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>Bus dashboard</title>", html);
        Assert.Contains("dashboard.js", html);

        var script = await anonymous.GetAsync("/dashboard.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("/api/v1/stats", await script.Content.ReadAsStringAsync());
    }

    async Task<DateTimeOffset> GeneratedAt() =>
        DateTimeOffset.Parse((string)(await system.Api.GetFromJsonAsync<JsonObject>("/api/v1/stats"))!["generatedAt"]!);
}

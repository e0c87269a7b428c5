using System.Net;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;
using Xunit.Abstractions;

namespace Bus.SystemTests;

/// <summary>
/// Fair share in placement on the real system: one tenant's flood of jobs no worker can take, and its backlog of jobs
/// that keep every slot busy, do not keep another tenant's one job waiting.
/// </summary>
public sealed class TenantFairnessTests(ITestOutputHelper output) : IAsyncLifetime
{
    readonly RunningSystem _system = new();

    public Task InitializeAsync() => _system.InitializeAsync();

    public Task DisposeAsync() => _system.DisposeAsync();

    [Fact]
    public async Task A_flood_of_unplaceable_and_placeable_jobs_from_one_tenant_does_not_stop_another_tenants_job_from_starting()
    {
        var run = $"fair-{Guid.NewGuid():N}";
        var flooder = _system.Client(RunningSystem.UserKey); // tenant dev
        var other = _system.Client(RunningSystem.OtherTenantKey); // tenant acme

        // 200 top-priority jobs for a language no worker offers: they must neither fill the pending reads nor be
        // offered again and again. Then 500 top-priority jobs that do run, 5 s each: the cluster's 6 slots stay full
        // for minutes, with hundreds queued.
        await SubmitAll(flooder, Enumerable.Range(0, 200).Select(i => (object)new
        {
            requestId = $"{run}-never-{i}", command = new[] { "/bin/true" }, priority = 100, constraints = new { language = "tlh" },
        }));
        await SubmitAll(flooder, Enumerable.Range(0, 500).Select(i => (object)new
        {
            requestId = $"{run}-busy-{i}", command = new[] { "/bin/sleep", "5" }, priority = 100,
        }));
        var queued = await Eventually.Get(() => CountPending("dev"), n => n >= 200 + 400, TimeSpan.FromSeconds(120),
            "the flooding tenant's backlog queued in the scheduler");
        output.WriteLine($"flooding tenant has {queued} jobs pending");

        var (status, accepted) = await _system.Submit(new { requestId = $"{run}-mine", command = new[] { "/bin/echo", "my turn" }, priority = 0 }, other);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var job = await Eventually.Get(
            async () => (await Get(other, $"/api/v1/jobs/{accepted["jobId"]}"))!,
            j => (string?)j["state"] is "Running" or "Completed", TimeSpan.FromSeconds(60), "the other tenant's job starting");

        // Started within about one job's length (a slot frees every second or so): without fair share it would have
        // waited for the whole backlog, over five minutes.
        var waited = DateTimeOffset.Parse((string)job["startedAt"]!) - DateTimeOffset.Parse((string)job["submittedAt"]!);
        output.WriteLine($"the other tenant's job started after {waited.TotalSeconds:F1} s");
        Assert.True(waited < TimeSpan.FromSeconds(20), $"started after {waited.TotalSeconds:F1} s");
        Assert.True(await CountPending("dev") > 300, "the flooding tenant still had its backlog queued, so fair share, not an empty queue, let the job in");

        // The unplaceable jobs say why they wait.
        var never = (await Get(flooder, $"/api/v1/jobs?state=Pending&limit=500"))!["jobs"]!.AsArray()
            .Select(j => j!.AsObject()).First(j => ((string)j["requestId"]!).Contains("-never-"));
        Assert.Contains("language 'tlh'", (string?)never["pendingReason"]);
    }

    async Task<long> CountPending(string tenant)
    {
        await using var command = _system.Database.DataSource.CreateCommand(
            "SELECT count(*) FROM jobs WHERE tenant = $1 AND current_state = 'Pending'");
        command.Parameters.AddWithValue(tenant);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    async Task SubmitAll(HttpClient client, IEnumerable<object> bodies)
    {
        // A few at a time: the machine is shared, and order among them does not matter.
        await Parallel.ForEachAsync(bodies, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (body, _) =>
        {
            var (status, answer) = await _system.Submit(body, client);
            Assert.True(status == HttpStatusCode.Accepted, $"{status}: {answer}");
        });
    }

    static async Task<JsonObject?> Get(HttpClient client, string path) =>
        JsonNode.Parse(await client.GetStringAsync(path))?.AsObject();
}

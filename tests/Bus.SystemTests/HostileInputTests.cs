using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;
using Xunit.Abstractions;

namespace Bus.SystemTests;

/// <summary>The running system with a small active-jobs quota for tenant <c>acme</c> and stats rebuilt every second.</summary>
public sealed class QuotaSystem : IAsyncLifetime
{
    public const int AcmeQuota = 2;

    public RunningSystem System { get; } = new(new Dictionary<string, string>
    {
        ["Limits__MaxActiveJobs__acme"] = AcmeQuota.ToString(),
        ["Stats__RefreshInterval"] = "00:00:01",
    });

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

/// <summary>
/// Hostile input against the real gateway process on the real system: generated bad requests never get a 5xx and
/// never create a job, valid requests keep working meanwhile; the tenant quota and the per-tenant stats.
/// </summary>
public sealed class HostileInputTests(QuotaSystem quota, ITestOutputHelper output) : IClassFixture<QuotaSystem>
{
    readonly RunningSystem _system = quota.System;

    [Fact]
    public async Task A_thousand_generated_bad_requests_get_4xx_problem_json_create_no_job_and_do_not_disturb_valid_ones()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"fuzz seed {seed}");
        var fuzz = new RequestFuzzer(new Random(seed), $"fuzz-{Guid.NewGuid():N}");
        using var raw = _system.Client(null);
        raw.Timeout = TimeSpan.FromSeconds(60);

        var refusedIds = new List<string>();
        var validJobs = new List<string>();
        var byStatus = new SortedDictionary<int, int>();
        var byKind = new SortedDictionary<string, int>();
        const int BadRequests = 1200;
        for (var i = 0; i < BadRequests; i++)
        {
            var bad = fuzz.Next();
            using var response = await Send(raw, bad);
            var status = (int)response.StatusCode;
            byStatus[status] = byStatus.GetValueOrDefault(status) + 1;
            byKind[$"{bad.Kind.Split(' ')[0]} {status}"] = byKind.GetValueOrDefault($"{bad.Kind.Split(' ')[0]} {status}") + 1;
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(status is >= 400 and < 500, $"[{bad.Kind}] answered {status}: {body}\nsent: {bad.Description}");
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
                $"[{bad.Kind}] answered {status} as {response.Content.Headers.ContentType}: {body}");
            if (bad.RequestId is not null)
                refusedIds.Add(bad.RequestId);

            if (i % 50 == 0)
            {
                var (validStatus, accepted) = await _system.Submit(new { requestId = $"{fuzz.Run}-valid-{i}", service = "noop" });
                Assert.Equal(HttpStatusCode.Accepted, validStatus);
                validJobs.Add((string)accepted["jobId"]!);
            }
        }
        output.WriteLine("statuses: " + string.Join(", ", byStatus.Select(s => $"{s.Key} x{s.Value}")));
        output.WriteLine("by kind: " + string.Join(", ", byKind.Select(s => $"{s.Key} x{s.Value}")));

        // No request the gateway refused left a claim or a job behind.
        await using (var command = _system.Database.DataSource.CreateCommand(
            "SELECT count(*) FROM job_requests WHERE request_id = ANY($1) OR request_id LIKE $2"))
        {
            command.Parameters.AddWithValue(refusedIds.Distinct().ToArray());
            command.Parameters.AddWithValue($"{fuzz.Run}-bad-%");
            Assert.Equal(0L, (long)(await command.ExecuteScalarAsync())!);
        }
        await using (var jobs = _system.Database.DataSource.CreateCommand("SELECT count(*) FROM jobs WHERE request_id LIKE $1"))
        {
            jobs.Parameters.AddWithValue($"{fuzz.Run}-bad-%");
            Assert.Equal(0L, (long)(await jobs.ExecuteScalarAsync())!);
        }
        foreach (var jobId in validJobs)
            await _system.WaitForJob(jobId, "Completed");
        var lines = _system.Logs.Split('\n');
        var unhandled = Enumerable.Range(0, lines.Length).FirstOrDefault(i => lines[i].Contains("Unhandled exception", StringComparison.OrdinalIgnoreCase), -1);
        Assert.True(unhandled < 0, $"the gateway logged an unhandled exception:\n{string.Join('\n', lines.Skip(unhandled).Take(12))}");
    }

    [Fact]
    public async Task A_tenant_over_its_active_jobs_quota_gets_429_with_retry_after_and_sees_its_own_usage_in_stats()
    {
        var acme = _system.Client(RunningSystem.OtherTenantKey);
        var run = $"quota-{Guid.NewGuid():N}";
        var running = new List<string>();
        for (var i = 0; i < QuotaSystem.AcmeQuota; i++)
        {
            var (status, accepted) = await _system.Submit(new { requestId = $"{run}-{i}", command = new[] { "/bin/sleep", "120" } }, acme);
            Assert.Equal(HttpStatusCode.Accepted, status);
            running.Add((string)accepted["jobId"]!);
        }
        foreach (var jobId in running)
            await WaitForJob(acme, jobId, "Running");

        var over = await acme.PostAsJsonAsync("/api/v1/jobs", new { requestId = $"{run}-over", command = new[] { "/bin/true" } });
        Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
        Assert.True(int.Parse(over.Headers.GetValues("Retry-After").Single()) > 0);
        var problem = (await over.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("MaxActiveJobsPerTenant", (string?)problem["detail"]);
        Assert.Contains($"is {QuotaSystem.AcmeQuota}", (string?)problem["detail"]);
        // A retry of a request already accepted is answered, not refused by the quota.
        Assert.Equal(HttpStatusCode.OK, (await _system.Submit(new { requestId = $"{run}-0", command = new[] { "/bin/sleep", "120" } }, acme)).Status);
        // Another tenant is not limited by acme's quota.
        Assert.Equal(HttpStatusCode.Accepted, (await _system.Submit(new { requestId = $"{run}-dev", service = "noop" })).Status);

        // acme's stats show acme's jobs only, and its usage against the quota; the admin sees every tenant's.
        var stats = await Eventually.Get(async () => (await acme.GetFromJsonAsync<JsonObject>("/api/v1/stats"))!,
            s => (long?)s["jobsByState"]!["Running"] == QuotaSystem.AcmeQuota, TimeSpan.FromSeconds(60), "acme's stats showing its running jobs");
        Assert.Equal(QuotaSystem.AcmeQuota, stats["jobsByState"]!.AsObject().Sum(s => (long)s.Value!));
        Assert.Equal("acme", (string?)stats["usage"]!["tenant"]);
        Assert.Equal(QuotaSystem.AcmeQuota, (long?)stats["usage"]!["activeJobs"]);
        Assert.Equal(QuotaSystem.AcmeQuota, (int?)stats["usage"]!["maxActiveJobs"]);
        var all = await Eventually.Get(async () => (await _system.Api.GetFromJsonAsync<JsonObject>("/api/v1/stats"))!,
            s => s["jobsByState"]!.AsObject().Sum(e => (long)e.Value!) > QuotaSystem.AcmeQuota, TimeSpan.FromSeconds(60), "the admin's stats showing every tenant");
        Assert.Equal("dev", (string?)all["usage"]!["tenant"]);

        // Once a job has finished, there is room again.
        Assert.Equal(HttpStatusCode.Accepted, (await acme.PostAsync($"/api/v1/jobs/{running[0]}/cancel", null)).StatusCode);
        await WaitForJob(acme, running[0], "Cancelled");
        Assert.Equal(HttpStatusCode.Accepted, (await _system.Submit(new { requestId = $"{run}-after", service = "noop" }, acme)).Status);
        await acme.PostAsync($"/api/v1/jobs/{running[1]}/cancel", null);
    }

    static async Task<HttpResponseMessage> Send(HttpClient client, BadRequest bad)
    {
        try
        {
            return await client.SendAsync(bad.Request);
        }
        catch (HttpRequestException e)
        {
            throw new InvalidOperationException($"[{bad.Kind}] got no answer ({e.Message}); sent: {bad.Description}", e);
        }
    }

    static Task<JsonObject> WaitForJob(HttpClient client, string jobId, string state) =>
        Eventually.Get(async () => (await client.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!,
            job => (string?)job["state"] == state, TimeSpan.FromSeconds(60), $"job {jobId} {state}");
}

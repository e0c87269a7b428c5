using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bus.SystemTests.Support;

namespace Bus.SystemTests.Dashboard;

/// <summary>What a log shipper gets from a real service: one JSON object per line, naming the job it is about.</summary>
[Collection(DashboardCollection.Name)]
public sealed partial class StructuredLogsTests(DashboardSystem dashboard)
{
    [Fact]
    public async Task A_workers_line_about_a_job_is_json_with_the_job_attempt_worker_and_trace_id_in_scope()
    {
        var system = dashboard.System;
        var (_, accepted) = await system.Submit(new { requestId = $"logs-{Guid.NewGuid():N}", command = new[] { "/bin/echo", "logged" } });
        var jobId = (string)accepted["jobId"]!;
        var job = await system.WaitForJob(jobId, "Completed");
        var workerId = (string)job["workerId"]!;

        // The worker's line that the attempt ended, which it writes after the run, outside the consumer that started
        // it: the job's scope must have followed the run there.
        var line = await Eventually.Get(
            () => Task.FromResult(JsonLines(system.Logs).FirstOrDefault(l =>
                (string?)l["Category"] == "Bus.Worker.Execution.JobRunner" && ScopeValue(l, "jobId") == jobId)),
            found => found is not null, TimeSpan.FromSeconds(30), $"the worker's JSON line about job {jobId}");

        Assert.Equal("Debug", (string?)line!["LogLevel"]);
        Assert.Matches(TimestampFormat(), (string?)line["Timestamp"] ?? "");
        Assert.Equal("1", ScopeValue(line, "attempt"));
        Assert.Equal(workerId, ScopeValue(line, "workerId"));
        // The trace the submission started, carried in the RunJob message's headers.
        Assert.Matches(TraceIdFormat(), ScopeValue(line, "TraceId") ?? "");
    }

    /// <summary>Every line of the services' output that is a JSON object; the rest (build noise, test banners) skipped.</summary>
    static IEnumerable<JsonObject> JsonLines(string output)
    {
        foreach (var text in output.Split('\n'))
        {
            if (!text.StartsWith('{'))
                continue;
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (System.Text.Json.JsonException) { continue; }
            if (node is JsonObject line)
                yield return line;
        }
    }

    static string? ScopeValue(JsonObject line, string name) =>
        line["Scopes"] is JsonArray scopes
            ? scopes.OfType<JsonObject>().Select(s => s[name]).FirstOrDefault(v => v is not null)?.ToString()
            : null;

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
    private static partial Regex TimestampFormat();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceIdFormat();
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>Live job events over Server-Sent Events, from the transitions the saga stores with each of its writes.</summary>
public sealed class EventsTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    static string RequestId() => $"sse-{Guid.NewGuid():N}";

    /// <summary>Each transition starts where the one before it ended, and the first where the snapshot stood (or
    /// leads to it, when it committed while the snapshot was read): no transition is missing or out of order.</summary>
    static void AssertChained(SseEvent? snapshot, IReadOnlyList<SseEvent> transitions)
    {
        var all = string.Join("\n", snapshot is null ? transitions : [snapshot, .. transitions]);
        // A snapshot of attempt 0 is a submission the scheduler has not taken up yet: its saga starts from Initial.
        var stood = snapshot is null ? null : (int?)snapshot.Data["attempt"] == 0 ? "Initial" : snapshot.State;
        if (snapshot is not null)
            Assert.True((string?)transitions[0].Data["previousState"] == stood || transitions[0].State == snapshot.State,
                $"the first transition does not follow the snapshot:\n{all}");
        for (var i = 1; i < transitions.Count; i++)
            Assert.True((string?)transitions[i].Data["previousState"] == transitions[i - 1].State,
                $"transition {i} does not follow transition {i - 1}:\n{all}");
    }

    [Fact]
    public async Task A_client_sees_the_current_state_then_every_transition_of_a_job_that_retries()
    {
        var (_, accepted) = await system.Submit(new
        {
            requestId = RequestId(), command = new[] { "/bin/sh", "-c", "echo try; exit 3" }, maxAttempts = 2,
        });
        var jobId = (string)accepted["jobId"]!;
        await using var stream = await SseStream.Open(system.Api, $"/api/v1/jobs/{jobId}/events");

        var events = await stream.Until(e => e.Type == "end", Patience);

        Assert.Equal("Snapshot", (string?)events[0].Data["event"]);
        Assert.Equal("end", events[^1].Type);
        var transitions = events.Skip(1).Where(e => e.Type == "state").ToList();
        Assert.Equal("Failed", transitions[^1].State);
        Assert.Equal(2, (int?)transitions[^1].Data["attempt"]);
        Assert.Equal(3, (int?)transitions[^1].Data["exitCode"]);
        // The first attempt failed and went back to Pending as attempt 2: both attempts are on the stream (the first
        // one's allocation possibly as the snapshot, when the stream opened after it).
        Assert.Contains(transitions, e => e.State == "Pending" && (int?)e.Data["attempt"] == 2);
        Assert.Contains(events, e => e.State is "Allocated" or "Running" && (int?)e.Data["attempt"] == 1);
        Assert.Contains(transitions, e => e.State == "Allocated" && (int?)e.Data["attempt"] == 2);
        AssertChained(events[0], transitions);
        Assert.All(events, e => Assert.NotNull(e.Id));
        Assert.Null(await stream.Next(TimeSpan.FromSeconds(10))); // the server closed the stream after the end
    }

    [Fact]
    public async Task A_tenant_stream_on_a_second_gateway_sees_a_job_submitted_through_the_first()
    {
        var (_, second) = await system.StartGateway("gateway-2");
        await using var stream = await SseStream.Open(second, "/api/v1/events");

        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" } });
        var jobId = (string)accepted["jobId"]!;

        var events = await stream.Until(e => (string?)e.Data["jobId"] == jobId && e.State == "Completed", Patience);
        var ofJob = events.Where(e => (string?)e.Data["jobId"] == jobId).ToList();
        Assert.Equal("Completed", ofJob[^1].State);
        // Submitted: to Pending, or straight to Allocated when a worker is free at once.
        Assert.Equal("Initial", (string?)ofJob[0].Data["previousState"]);
        Assert.Contains(ofJob[0].State, new[] { "Pending", "Allocated" });
        AssertChained(null, ofJob);
    }

    [Fact]
    public async Task A_stream_resumed_with_Last_Event_ID_after_a_disconnect_misses_nothing()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/sh", "-c", "sleep 2; echo done" } });
        var jobId = (string)accepted["jobId"]!;

        List<SseEvent> before;
        await using (var first = await SseStream.Open(system.Api, $"/api/v1/jobs/{jobId}/events"))
            before = [await first.Next(Patience) ?? throw new InvalidOperationException("no first event")];
        // Disconnected; the job moves on meanwhile.
        await system.WaitForJob(jobId, "Completed");

        await using var resumed = await SseStream.Open(system.Api, $"/api/v1/jobs/{jobId}/events", before[^1].Id);
        var after = await resumed.Until(e => e.Type == "end", Patience);

        var transitions = after.Where(e => e.Type == "state").ToList();
        Assert.Equal("Completed", transitions[^1].State);
        Assert.Equal("done\n", (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{jobId}"))!["output"]?.ToString());
        // Together the two connections saw every transition the saga stored after the first event, once each.
        var history = (await system.Api.GetFromJsonAsync<JsonObject>($"/api/v1/sagas/{jobId}"))!["history"]!.AsArray();
        var stored = history.Select(h => (string)h!["to"]!).ToList();
        var seen = transitions.Select(e => e.State).ToList();
        Assert.Equal(stored.TakeLast(seen.Count), seen);
        AssertChained(before[0], transitions);

        // A client that reconnects after the end is told the end again, and the stream closes.
        await using var again = await SseStream.Open(system.Api, $"/api/v1/jobs/{jobId}/events", after[^1].Id);
        var ended = await again.Next(Patience);
        Assert.Equal("end", ended?.Type);
        Assert.Equal("Completed", ended?.State);
        Assert.Null(await again.Next(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_bad_Last_Event_ID_is_a_400_and_another_tenants_job_is_a_404()
    {
        var (_, accepted) = await system.Submit(new { requestId = RequestId(), command = new[] { "/bin/true" } });
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/jobs/{accepted["jobId"]}/events");
        request.Headers.Add("Last-Event-ID", "not-a-cursor");
        Assert.Equal(HttpStatusCode.BadRequest, (await system.Api.SendAsync(request)).StatusCode);

        using var other = system.Client(RunningSystem.OtherTenantKey);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/jobs/{accepted["jobId"]}/events")).StatusCode);
    }
}

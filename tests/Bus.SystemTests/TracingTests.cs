using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>The whole system with traces exported over OTLP to a receiver of the test's own.</summary>
public sealed class TracedSystem : IAsyncLifetime
{
    // Made before the system, whose services are told its address.
    public OtlpReceiver Spans { get; } = new();

    public RunningSystem System { get; }

    public TracedSystem() => System = new RunningSystem(new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Spans.Endpoint.ToString().TrimEnd('/'),
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        // Export within a fifth of a second instead of the default five, so the test waits less.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        // The outbox relay resends a submission the scheduler has not taken up within RelayAfter, and the lease sweep
        // resends a RunJob its worker has not started within StartLease (5 s in test systems); on a loaded machine
        // either joins the reconciler to the trace, which is right but not what this test is about.
        ["Reconciler__RelayAfter"] = "00:01:00",
        ["Reconciler__StartLease"] = "00:01:00",
    });

    public Task InitializeAsync() => System.InitializeAsync();

    public async Task DisposeAsync()
    {
        await System.DisposeAsync();
        Spans.Dispose();
    }
}

public sealed class TracingTests(TracedSystem traced) : IClassFixture<TracedSystem>
{
    [Fact]
    public async Task One_job_is_one_trace_across_the_gateway_the_scheduler_and_the_worker()
    {
        var system = traced.System;
        var (_, accepted) = await system.Submit(new { requestId = $"trace-{Guid.NewGuid():N}", command = new[] { "/bin/echo", "traced" } });
        var jobId = (string)accepted["jobId"]!;
        await system.WaitForJob(jobId, "Completed");

        var spans = await Eventually.Get(
            () => Task.FromResult(traced.Spans.Spans.Where(s => s.Attributes.GetValueOrDefault("bus.job.id") == jobId).ToList()),
            found => found.Select(s => s.Service).Distinct().Count() >= 3,
            TimeSpan.FromSeconds(30), $"spans tagged with job {jobId} from the gateway, the scheduler and a worker");

        Assert.Equal(["gateway", "scheduler", "worker"], spans.Select(s => s.Service).Distinct().Order());
        var trace = Assert.Single(spans.Select(s => s.TraceId).Distinct());
        // The HTTP request that submitted the job starts that trace.
        Assert.Contains(traced.Spans.Spans, s => s.TraceId == trace && s.Service == "gateway" && s.Name.StartsWith("POST"));
        Assert.Contains(spans, s => s.Service == "worker" && s.Attributes.GetValueOrDefault("bus.job.attempt") == "1");
    }
}

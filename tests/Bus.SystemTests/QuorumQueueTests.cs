using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary>The whole system configured with <c>RabbitMq:QueueType = Quorum</c>, in a virtual host of its own.</summary>
public sealed class QuorumSystem : IAsyncLifetime
{
    public RunningSystem System { get; } = new(new Dictionary<string, string> { ["RabbitMq__QueueType"] = "Quorum" });

    public Task InitializeAsync() => System.InitializeAsync();

    public Task DisposeAsync() => System.DisposeAsync();
}

/// <summary>Quorum queues by configuration: every service declares its durable queues as quorum queues and still works.</summary>
public sealed class QuorumQueueTests(QuorumSystem quorum) : IClassFixture<QuorumSystem>
{
    readonly RunningSystem _system = quorum.System;

    [Fact]
    public async Task With_quorum_queues_configured_a_job_completes_and_every_durable_queue_is_a_quorum_queue()
    {
        var (_, accepted) = await _system.Submit(new { requestId = $"quorum-{Guid.NewGuid():N}", command = new[] { "/bin/echo", "replicated" } });
        var job = await _system.WaitForJob((string)accepted["jobId"]!, "Completed", "Failed");
        Assert.Equal(("Completed", "replicated\n"), ((string?)job["state"], (string?)job["output"]));

        using var management = TestEnvironment.RabbitManagement();
        var queues = (await management.GetFromJsonAsync<JsonArray>(
            $"queues/{Uri.EscapeDataString(_system.VirtualHost)}?columns=name,type,durable,auto_delete"))!
            .Select(q => (Name: (string)q!["name"]!, Type: (string)q["type"]!, Durable: (bool)q["durable"]!, AutoDelete: (bool)q["auto_delete"]!))
            .ToList();

        // The saga's queue (the gateway sends to it) and a worker's own queue (declared outside ConfigureEndpoints).
        Assert.Equal("quorum", queues.Single(q => q.Name == "job-state").Type);
        Assert.Equal("quorum", queues.Single(q => q.Name == "worker-worker-a").Type);
        Assert.All(queues.Where(q => q.Durable && !q.AutoDelete), q => Assert.Equal((q.Name, "quorum"), (q.Name, q.Type)));
        // Reply queues are temporary, which a quorum queue cannot be: they stay classic, and the services still started.
        Assert.All(queues.Where(q => q.AutoDelete), q => Assert.Equal((q.Name, "classic"), (q.Name, q.Type)));
    }
}

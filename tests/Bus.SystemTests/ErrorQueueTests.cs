using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.SystemTests.Support;

namespace Bus.SystemTests;

/// <summary><c>./bus errors</c> (infra/errors.sh) against a virtual host of its own on the real broker.</summary>
public sealed class ErrorQueueTests : IAsyncLifetime
{
    TestVirtualHost _vhost = null!;

    public async Task InitializeAsync() => _vhost = await TestVirtualHost.Create();

    public async Task DisposeAsync() => await _vhost.DisposeAsync();

    [Fact]
    public async Task Errors_lists_each_faulted_message_and_replay_moves_them_back_to_their_queue_unchanged()
    {
        foreach (var queue in new[] { "orders", "orders_error" })
            (await _vhost.Management.PutAsJsonAsync($"queues/{_vhost.Name}/{queue}", new { durable = true })).EnsureSuccessStatusCode();
        for (var i = 0; i < 3; i++)
            (await _vhost.Management.PostAsJsonAsync($"exchanges/{_vhost.Name}/amq.default/publish", new
            {
                properties = new
                {
                    content_type = "application/vnd.masstransit+json",
                    headers = new Dictionary<string, string>
                    {
                        ["MT-Fault-ExceptionType"] = "Npgsql.NpgsqlException",
                        ["MT-Fault-Message"] = "Failed to connect",
                        ["MT-MessageType"] = "urn:message:Bus.Contracts:JobCompleted",
                    },
                },
                routing_key = "orders_error",
                payload = $"{{\"message\":{{\"n\":{i}}}}}",
                payload_encoding = "string",
            })).EnsureSuccessStatusCode();

        var listed = await Run("list");
        Assert.Contains("orders_error: 3 messages", listed);
        Assert.Contains("Npgsql.NpgsqlException", listed);
        Assert.Contains("JobCompleted", listed);
        Assert.Contains("orders_error: 3 messages", await Run("list")); // listing takes nothing away

        Assert.Contains("replayed 2 messages", await Run("replay", "orders_error", "2"));
        Assert.Contains("replayed 1 messages", await Run("replay", "orders"));

        Assert.Contains("no messages in any _error queue", await Run("list"));
        var replayed = await _vhost.Management.PostAsJsonAsync($"queues/{_vhost.Name}/orders/get",
            new { count = 10, ackmode = "ack_requeue_false", encoding = "auto" });
        var messages = (await replayed.Content.ReadFromJsonAsync<JsonArray>())!;
        Assert.Equal(["{\"message\":{\"n\":0}}", "{\"message\":{\"n\":1}}", "{\"message\":{\"n\":2}}"],
            messages.Select(m => (string)m!["payload"]!).Order().ToArray());
        Assert.All(messages, m => Assert.Null(m!["properties"]!["headers"]!["MT-Fault-Message"]));
        Assert.All(messages, m => Assert.Equal("urn:message:Bus.Contracts:JobCompleted", (string?)m!["properties"]!["headers"]!["MT-MessageType"]));
    }

    async Task<string> Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(TestEnvironment.RepoRoot, "infra", "errors.sh"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["BUS_RABBIT_MGMT_PORT"] = TestEnvironment.RabbitManagementPort.ToString();
        start.Environment["BUS_RABBIT_VHOST"] = _vhost.Name;
        start.Environment["BUS_RABBIT_USER"] = TestEnvironment.RabbitUser;
        start.Environment["BUS_RABBIT_PASS"] = TestEnvironment.RabbitPassword;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"errors.sh {string.Join(' ', arguments)} exited {process.ExitCode}: {await error}");
        return await output;
    }
}

using System.Net;
using System.Text;
using Bus.Hosting.Messaging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus.ComponentTests;

/// <summary>
/// <see cref="RetiredEndpoints"/> on the real broker, in a virtual host of its own: an earlier version's endpoint, a
/// queue and an exchange bound to a message type's exchange as MassTransit leaves them, is deleted with its binding;
/// its error queue and every other endpoint stay.
/// </summary>
public sealed class RetiredEndpointsTests : IAsyncLifetime
{
    // A message type's exchange (MassTransit names them namespace:type), bound to each endpoint's exchange.
    const string MessageExchange = "Contracts.Report";

    TestVirtualHost _vhost = null!;

    public async Task InitializeAsync() => _vhost = await TestVirtualHost.Create();

    public async Task DisposeAsync() => await _vhost.DisposeAsync();

    [Fact]
    public async Task The_retired_endpoints_queue_exchange_and_binding_go_and_the_rest_stays()
    {
        await Put($"exchanges/{_vhost.Name}/{MessageExchange}", """{"type":"fanout","durable":true}""");
        foreach (var endpoint in new[] { "retired", "kept" })
        {
            await Put($"exchanges/{_vhost.Name}/{endpoint}", """{"type":"fanout","durable":true}""");
            await Put($"queues/{_vhost.Name}/{endpoint}", """{"durable":true}""");
            await Post($"bindings/{_vhost.Name}/e/{endpoint}/q/{endpoint}");
            await Post($"bindings/{_vhost.Name}/e/{MessageExchange}/e/{endpoint}");
        }
        await Put($"queues/{_vhost.Name}/retired_error", """{"durable":true}""");

        var retired = new RetiredEndpoints(["retired", "never-declared"], Options.Create(new RabbitMqOptions
        {
            Host = TestEnvironment.RabbitHost,
            Port = (ushort)TestEnvironment.RabbitPort,
            VirtualHost = _vhost.Name,
            Username = TestEnvironment.RabbitUser,
            Password = TestEnvironment.RabbitPassword,
        }), NullLogger<RetiredEndpoints>.Instance);
        await retired.StartAsync(CancellationToken.None);
        await (retired.ExecuteTask ?? Task.CompletedTask).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.NotFound, await Status($"queues/{_vhost.Name}/retired"));
        Assert.Equal(HttpStatusCode.NotFound, await Status($"exchanges/{_vhost.Name}/retired"));
        Assert.Equal(["kept"], await Destinations());
        Assert.Equal(HttpStatusCode.OK, await Status($"queues/{_vhost.Name}/kept"));
        Assert.Equal(HttpStatusCode.OK, await Status($"queues/{_vhost.Name}/retired_error"));
    }

    async Task Put(string path, string body) =>
        (await _vhost.Management.PutAsync(path, new StringContent(body, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

    async Task Post(string path) =>
        (await _vhost.Management.PostAsync(path, new StringContent("{}", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

    async Task<HttpStatusCode> Status(string path) => (await _vhost.Management.GetAsync(path)).StatusCode;

    /// <summary>The endpoints the message type's exchange is bound to.</summary>
    async Task<string[]> Destinations()
    {
        var bindings = await _vhost.Management.GetStringAsync($"exchanges/{_vhost.Name}/{MessageExchange}/bindings/source");
        return System.Text.Json.Nodes.JsonNode.Parse(bindings)!.AsArray().Select(b => (string)b!["destination"]!).Order().ToArray();
    }
}

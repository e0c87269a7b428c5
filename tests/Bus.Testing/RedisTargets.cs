using Bus.Capacity.Redis;
using StackExchange.Redis;

namespace Bus.Testing;

/// <summary>The two real Redis deployments every Redis test runs against: standalone, and the 3-master cluster.</summary>
public sealed class RedisTargets : IAsyncLifetime
{
    public const string Standalone = "standalone";
    public const string Cluster = "cluster";

    public static TheoryData<string> Both => new() { Standalone, Cluster };

    readonly Dictionary<string, ConnectionMultiplexer> _connections = [];

    public async Task InitializeAsync()
    {
        _connections[Standalone] = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        _connections[Cluster] = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.RedisCluster);
    }

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections.Values)
            await connection.DisposeAsync();
    }

    public IConnectionMultiplexer Connection(string target) => _connections[target];

    /// <summary>Key names under a prefix no other test uses.</summary>
    public static RedisKeys FreshKeys() => new($"test-{Guid.NewGuid():N}:");
}

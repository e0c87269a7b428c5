using StackExchange.Redis;

namespace Bus.Bench.Chaos;

/// <summary>
/// The faults, one per round, each injected a third of the way into the round's stream. A fault's task ends when
/// what it broke has been started again, so the round's deadline counts from there.
/// </summary>
public static class Faults
{
    public static readonly string[] Names =
    [
        "baseline", "kill-gateway", "kill-scheduler", "kill-reconciler", "kill-worker", "redis-flushall", "redis-stop-30s",
        "rabbitmq-stop-30s", "postgres-stop-10s", "postgres-stop-60s", "rabbitmq-node-stop-30s",
    ];

    /// <summary>
    /// Outages as long as the services promise to ride through (2 minutes; <c>RideThrough:OutageWindow</c> is 3): not in
    /// the default run, which they would lengthen by 6 minutes; ask for them with <c>--rounds</c>.
    /// </summary>
    public static readonly string[] Long = ["postgres-stop-120s", "rabbitmq-stop-120s", "redis-stop-120s"];

    /// <summary>Every round <c>--rounds</c> may name.</summary>
    public static IEnumerable<string> All => Names.Concat(Long);

    /// <summary>Whether the services use the 3-node RabbitMQ cluster (then stopping RabbitMQ means all of it).</summary>
    static bool OnCluster => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("RabbitMq__ClusterNodes"));

    /// <summary>Why a round cannot run on this system, or null when it can.</summary>
    public static string? Unavailable(string name) =>
        name == "rabbitmq-node-stop-30s" && !OnCluster
            ? "the services are not on the RabbitMQ cluster (start them with BUS_RABBIT_CLUSTER=only ./bus up)"
            : null;

    /// <summary>
    /// Injects the fault and returns once it is over (the service or server back). <paramref name="inEffect"/> is
    /// completed the moment the fault holds: a stop through a server's CLI can take a minute on a loaded machine, and
    /// the round's stream waits for it, so the rest of its jobs meet the fault rather than finish before it.
    /// </summary>
    public static async Task Inject(string name, SystemControl system, TaskCompletionSource inEffect)
    {
        try
        {
            await Fault(name, system, inEffect);
        }
        finally
        {
            inEffect.TrySetResult(); // a fault that failed to inject must not hold the stream for ever
        }
    }

    static Task Fault(string name, SystemControl system, TaskCompletionSource inEffect) => name switch
    {
        "baseline" => Task.CompletedTask,
        "kill-gateway" => KillAndRestart(system, "gateway", inEffect),
        "kill-scheduler" => KillAndRestart(system, "scheduler", inEffect),
        "kill-reconciler" => KillAndRestart(system, "reconciler", inEffect),
        "kill-worker" => KillAndRestart(system, "worker-1", inEffect),
        "redis-flushall" => FlushAll(system),
        "redis-stop-30s" => StopFor(system, inEffect, "redis", TimeSpan.FromSeconds(30)),
        "rabbitmq-stop-30s" => StopFor(system, inEffect, OnCluster ? "rabbitmq-cluster" : "rabbitmq", TimeSpan.FromSeconds(30)),
        "postgres-stop-10s" => StopFor(system, inEffect, "postgres", TimeSpan.FromSeconds(10)),
        "postgres-stop-60s" => StopFor(system, inEffect, "postgres", TimeSpan.FromSeconds(60)),
        "postgres-stop-120s" => StopFor(system, inEffect, "postgres", TimeSpan.FromSeconds(120)),
        "rabbitmq-stop-120s" => StopFor(system, inEffect, OnCluster ? "rabbitmq-cluster" : "rabbitmq", TimeSpan.FromSeconds(120)),
        "redis-stop-120s" => StopFor(system, inEffect, "redis", TimeSpan.FromSeconds(120)),
        // The first node is the one every service connects to first, so its stop also moves every connection.
        "rabbitmq-node-stop-30s" => StopFor(system, inEffect, "rabbitmq-node-1", TimeSpan.FromSeconds(30)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such fault"),
    };

    /// <summary>kill -9, then started again at once, as a supervisor would.</summary>
    static async Task KillAndRestart(SystemControl system, string service, TaskCompletionSource inEffect)
    {
        await system.Kill(service);
        inEffect.TrySetResult();
        await system.Start(service);
    }

    static async Task FlushAll(SystemControl system)
    {
        var configuration = ConfigurationOptions.Parse(BenchEnvironment.Redis);
        configuration.AllowAdmin = true;
        await using var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        foreach (var server in redis.GetServers())
            await server.FlushAllDatabasesAsync();
        system.Note("FLUSHALL on the services' Redis");
    }

    static async Task StopFor(SystemControl system, TaskCompletionSource inEffect, string server, TimeSpan outage)
    {
        await system.StopServer(server);
        inEffect.TrySetResult();
        system.Note($"{server} stopped; starting it again in {outage.TotalSeconds:F0} s");
        await Task.Delay(outage);
        await system.StartInfrastructure();
        system.Note($"{server} started again");
    }
}

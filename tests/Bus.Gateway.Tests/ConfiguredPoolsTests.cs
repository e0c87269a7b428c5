using System.Text.Json.Nodes;
using Bus.Capacity.Pools;
using Bus.Capacity.Workers;
using Bus.Contracts;
using Bus.Gateway.Workers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bus.Gateway.Tests;

/// <summary>
/// The pools as the gateway reads them to show each worker's pools: the same section and rules as placement, reloaded
/// the same way, and shipped with the same settings in both services.
/// </summary>
public sealed class ConfiguredPoolsTests
{
    [Fact]
    public void The_pools_follow_a_reload_and_a_broken_reload_keeps_the_last_valid_ones()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Placement:Pools:0:Name"] = "gpu",
            ["Placement:Pools:0:WorkerPrefixes:0"] = "gpu-",
            ["Placement:SnapshotInterval"] = "00:00:01", // the scheduler's own settings share the section; ignored here
        }).Build();
        using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging().AddWorkerPools().BuildServiceProvider();
        var pools = services.GetRequiredService<ConfiguredPools>();
        var worker = new WorkerRegistration("gpu-1", new ResourceVector(1, 1024, 0), 1, ["asr"], [], WorkerStatus.Ready);
        Assert.Equal(["gpu"], pools.Current.Membership(worker));

        configuration["Placement:Pools:0:Name"] = "asr";
        configuration["Placement:Pools:0:Services:0"] = "asr";
        configuration.Reload();
        Assert.Equal(["asr"], pools.Current.Membership(worker));

        configuration["Placement:Pools:0:Name"] = PoolSet.DefaultPool;
        // The monitor validates on the thread that reloads (in a service, the file watcher's) and refuses there.
        Assert.Throws<AggregateException>(configuration.Reload);
        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptionsMonitor<WorkerPoolsOptions>>().CurrentValue);
        Assert.Equal(["asr"], pools.Current.Membership(worker));
    }

    [Fact]
    public void The_gateway_and_the_scheduler_ship_the_same_pools()
    {
        var services = Path.Combine(Repository.Root, "services");
        string[] folders = [Path.Combine(services, "gateway"), Path.Combine(services, "scheduler")];
        var files = folders.SelectMany(f => Directory.GetFiles(f, "appsettings*.json")).Select(Path.GetFileName).Distinct().ToList();
        Assert.Contains("appsettings.json", files);

        foreach (var file in files)
        {
            var (gateway, scheduler) = (Pools(folders[0], file!), Pools(folders[1], file!));
            Assert.True(JsonNode.DeepEquals(gateway, scheduler),
                $"Placement:Pools in {file} differ: gateway {gateway?.ToJsonString() ?? "none"}, scheduler {scheduler?.ToJsonString() ?? "none"}");
        }
    }

    static JsonNode? Pools(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))?["Placement"]?["Pools"] : null;
    }
}

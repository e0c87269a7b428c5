using Bus.Capacity.Pools;
using static Bus.Scheduler.Tests.PlacementData;

namespace Bus.Scheduler.Tests;

/// <summary>Pools compiled from configuration: who belongs, which pools a job may use, and which configurations are refused.</summary>
public sealed class PoolSetTests
{
    static readonly PoolSet Pools = PoolSet.Compile([
        Pool("zh", languages: ["zh", "zh-en"]),
        Pool("asr", services: ["asr"]),
        Pool("gpu", prefixes: ["gpu-"]),
    ]);

    [Fact]
    public void Without_pools_every_worker_is_in_the_default_pool_and_every_job_may_use_it()
    {
        Assert.Equal([PoolSet.DefaultPool], PoolSet.Empty.Membership(Worker("a", cpus: 1).Registration));
        Assert.Equal([PoolSet.DefaultPool], PoolSet.Empty.EligibleFor("shell", "zh", preferred: "anything"));
    }

    [Fact]
    public void A_worker_belongs_to_every_pool_whose_rules_it_matches_or_else_to_the_default_pool()
    {
        Assert.Equal(["zh", "asr", "gpu"], Pools.Membership(Worker("gpu-7", cpus: 1, services: ["asr"], languages: ["zh-en"]).Registration));
        Assert.Equal(["asr"], Pools.Membership(Worker("n1", cpus: 1, services: ["asr", "tts"], languages: ["en"]).Registration));
        Assert.Equal([PoolSet.DefaultPool], Pools.Membership(Worker("n2", cpus: 1, services: ["tts"], languages: ["en"]).Registration));
    }

    [Fact]
    public void A_job_may_use_the_pools_serving_its_service_and_language_preferred_first_and_default_last()
    {
        Assert.Equal(["zh", "asr", "gpu", "default"], Pools.EligibleFor("asr", "zh", preferred: null));
        Assert.Equal(["gpu", "zh", "asr", "default"], Pools.EligibleFor("asr", "zh", preferred: "gpu"));
        Assert.Equal(["gpu", "default"], Pools.EligibleFor("tts", "en", preferred: null));
        // A preference for a pool that does not serve the job, or does not exist, changes nothing.
        Assert.Equal(["gpu", "default"], Pools.EligibleFor("tts", "en", preferred: "zh"));
        Assert.Equal(["zh", "gpu", "default"], Pools.EligibleFor("shell", null, preferred: "nope"));
    }

    [Theory]
    [InlineData("", "zh", "Placement:Pools: every pool needs a Name")]
    [InlineData("default", "zh", "Placement:Pools: 'default' is the implicit pool of workers no rule admits; choose another name")]
    [InlineData("zh", "zh", "Placement:Pools: the name 'zh' is used twice")]
    [InlineData("en", "zh", null)]
    public void Unusable_pool_lists_are_refused_with_a_reason(string first, string second, string? problem)
    {
        Assert.Equal(problem, PoolSet.Problem([Pool(first), Pool(second)]));
    }
}

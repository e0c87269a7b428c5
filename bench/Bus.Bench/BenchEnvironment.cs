namespace Bus.Bench;

/// <summary>
/// Where the infrastructure is: the variables infra/up.sh writes to .state/env, which bench/run-capacity.sh sources.
/// </summary>
public static class BenchEnvironment
{
    public static string Postgres => Get("ConnectionStrings__Postgres");
    public static string Redis => Get("ConnectionStrings__Redis");
    public static string RedisCluster => Get("ConnectionStrings__RedisCluster");

    static string Get(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException($"{name} is not set: run bench/run-capacity.sh, or source .state/env first");
}

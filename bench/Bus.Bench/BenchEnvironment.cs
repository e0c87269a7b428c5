namespace Bus.Bench;

/// <summary>
/// Where the infrastructure is: the variables infra/up.sh writes to .state/env, which the bench/run-*.sh scripts source.
/// </summary>
public static class BenchEnvironment
{
    public static string Postgres => Get("ConnectionStrings__Postgres");
    public static string Redis => Get("ConnectionStrings__Redis");
    public static string RedisCluster => Get("ConnectionStrings__RedisCluster");
    public static string RabbitHost => Get("RabbitMq__Host");
    public static string RabbitPort => Get("RabbitMq__Port");
    public static string RabbitManagementPort => Get("RabbitMq__ManagementPort");
    public static string RabbitUser => Get("RabbitMq__Username");
    public static string RabbitPassword => Get("RabbitMq__Password");

    static string Get(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException($"{name} is not set: run the benchmark through its bench/run-*.sh script, or source .state/env first");
}

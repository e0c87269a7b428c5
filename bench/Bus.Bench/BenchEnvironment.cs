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

    public static string RabbitVirtualHost => Get("RabbitMq__VirtualHost");

    /// <summary>A client of RabbitMQ's management API, signed in as the services' user.</summary>
    public static HttpClient RabbitManagement()
    {
        var client = new HttpClient
        {
            BaseAddress = new Uri($"http://{RabbitHost}:{RabbitManagementPort}"),
            Timeout = TimeSpan.FromSeconds(10),
        };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RabbitUser}:{RabbitPassword}")));
        return client;
    }

    static string Get(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? throw new InvalidOperationException($"{name} is not set: run the benchmark through its bench/run-*.sh script, or source .state/env first");
}

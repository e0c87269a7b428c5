namespace Bus.Testing;

/// <summary>
/// Where the real infrastructure is: the variables <c>infra/up.sh</c> writes to <c>.state/env</c>. Taken from the
/// environment when <c>./bus test</c> sourced that file, else read from the file itself.
/// </summary>
public static class TestEnvironment
{
    static readonly Lazy<Dictionary<string, string>> Values = new(Load);

    public static string RepoRoot => Repository.Root;

    public static string Postgres => Get("ConnectionStrings__Postgres");
    public static string Redis => Get("ConnectionStrings__Redis");
    public static string RedisCluster => Get("ConnectionStrings__RedisCluster");
    public static string RabbitHost => Get("RabbitMq__Host");
    public static int RabbitPort => int.Parse(Get("RabbitMq__Port"));
    public static int RabbitManagementPort => int.Parse(Get("RabbitMq__ManagementPort"));
    public static int RabbitPrometheusPort => int.Parse(Get("RabbitMq__PrometheusPort"));
    public static string RabbitUser => Get("RabbitMq__Username");
    public static string RabbitPassword => Get("RabbitMq__Password");

    /// <summary>A client for the RabbitMQ management API (<c>.../api/</c>), logged in.</summary>
    public static HttpClient RabbitManagement()
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://{RabbitHost}:{RabbitManagementPort}/api/") };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{RabbitUser}:{RabbitPassword}")));
        return client;
    }

    static string Get(string name) =>
        Environment.GetEnvironmentVariable(name)
        ?? (Values.Value.TryGetValue(name, out var value) ? value : null)
        ?? throw new InvalidOperationException(
            $"{name} is not set. Start the infrastructure with infra/up.sh (or run the tests with ./bus test).");

    static Dictionary<string, string> Load()
    {
        var file = Path.Combine(RepoRoot, ".state", "env");
        if (!File.Exists(file))
            return [];
        return File.ReadAllLines(file)
            .Where(l => l.StartsWith("export "))
            .Select(l => l["export ".Length..].Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('"'));
    }
}

using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bus.Gateway.Tests;

/// <summary>
/// The gateway in process. PostgreSQL, Redis and RabbitMQ are pointed at a loopback port nothing listens on, so these
/// tests need no infrastructure, never touch anyone's data, and everything the gateway refuses before its first query
/// is tested as it really runs; a request that does reach the database meets an unreachable one.
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    readonly string environment;
    readonly IReadOnlyDictionary<string, string?>? settings;

    /// <summary>In Development, with the development keys (a class fixture: one public constructor only).</summary>
    public GatewayFactory() : this("Development", null)
    {
    }

    GatewayFactory(string environment, IReadOnlyDictionary<string, string?>? settings)
    {
        this.environment = environment;
        this.settings = settings;
    }

    public static GatewayFactory In(string environment, IReadOnlyDictionary<string, string?>? settings = null) => new(environment, settings);

    public static string AdminKey => Repository.AdminKey;
    public static string UserKey => Repository.UserKey;
    public static string OtherTenantKey => Repository.OtherTenantKey;
    const string Nowhere = "127.0.0.1";
    const int ClosedPort = 1;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        // Host settings, not app configuration: Program reads the connection string while registering services,
        // before configuration added later by the factory would be seen.
        builder.UseSetting("ConnectionStrings:Postgres", $"Host={Nowhere};Port={ClosedPort};Database=bus;Username=bus;Password=bus;Timeout=2");
        builder.UseSetting("ConnectionStrings:Redis", $"{Nowhere}:{ClosedPort},connectTimeout=500");
        builder.UseSetting("RabbitMq:Host", Nowhere);
        builder.UseSetting("RabbitMq:Port", ClosedPort.ToString());
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            builder.UseSetting(key, value);
        // The schema step at start is the one thing that would need the database before a request: without it the
        // gateway starts, and the requests that reach the database meet an unreachable one.
        // The bus never connects here; its retries would fill the test output.
        builder.ConfigureLogging(logging => logging.AddFilter("MassTransit", LogLevel.None));
        builder.ConfigureTestServices(services =>
        {
            var migration = services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Name == "SchemaAtStart");
            services.Remove(migration);
        });
    }

    public HttpClient Client(string? apiKey)
    {
        var client = CreateClient();
        if (apiKey is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }
}

using System.Net.Http.Headers;
using System.Text;

namespace Bus.Testing;

/// <summary>A RabbitMQ virtual host of its own, made through the management API and deleted afterwards.</summary>
public sealed class TestVirtualHost : IAsyncDisposable
{
    readonly HttpClient _management;

    public string Name { get; } = $"test-{Guid.NewGuid():N}";

    TestVirtualHost() => _management = ManagementClient();

    /// <summary>A client for the broker's management API (<c>/api/</c>), as the test user.</summary>
    public static HttpClient ManagementClient()
    {
        var management = new HttpClient { BaseAddress = new Uri($"http://{TestEnvironment.RabbitHost}:{TestEnvironment.RabbitManagementPort}/api/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{TestEnvironment.RabbitUser}:{TestEnvironment.RabbitPassword}")));
        return management;
    }

    public static async Task<TestVirtualHost> Create()
    {
        var vhost = new TestVirtualHost();
        (await vhost._management.PutAsync($"vhosts/{vhost.Name}", null)).EnsureSuccessStatusCode();
        (await vhost._management.PutAsync($"permissions/{vhost.Name}/{TestEnvironment.RabbitUser}",
            new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return vhost;
    }

    public async ValueTask DisposeAsync()
    {
        await _management.DeleteAsync($"vhosts/{Name}");
        _management.Dispose();
    }
}

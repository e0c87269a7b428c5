using System.Text;

namespace Bus.Testing;

/// <summary>A RabbitMQ virtual host of its own, made through the management API and deleted afterwards.</summary>
public sealed class TestVirtualHost : IAsyncDisposable
{
    public string Name { get; } = $"test-{Guid.NewGuid():N}";

    /// <summary>A client for the broker's management API (<c>/api/</c>), as the test user; disposed with the host.</summary>
    public HttpClient Management { get; } = TestEnvironment.RabbitManagement();

    TestVirtualHost() { }

    public static async Task<TestVirtualHost> Create()
    {
        var vhost = new TestVirtualHost();
        (await vhost.Management.PutAsync($"vhosts/{vhost.Name}", null)).EnsureSuccessStatusCode();
        (await vhost.Management.PutAsync($"permissions/{vhost.Name}/{TestEnvironment.RabbitUser}",
            new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        return vhost;
    }

    public async ValueTask DisposeAsync()
    {
        await Management.DeleteAsync($"vhosts/{Name}");
        Management.Dispose();
    }
}

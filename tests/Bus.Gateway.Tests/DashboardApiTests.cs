using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Bus.Gateway.Tests;

/// <summary>The two small calls the dashboard adds: who the key is, and the charts' history. Both need a key.</summary>
public sealed class DashboardApiTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    [Theory]
    [InlineData("admin", "dev", true)]
    [InlineData("user", "dev", false)]
    [InlineData("other tenant", "acme", false)]
    public async Task Me_names_the_keys_tenant_and_whether_it_is_an_admin(string whose, string tenant, bool admin)
    {
        var key = whose switch { "admin" => GatewayFactory.AdminKey, "user" => GatewayFactory.UserKey, _ => GatewayFactory.OtherTenantKey };
        var me = await gateway.Client(key).GetFromJsonAsync<JsonObject>("/api/v1/me");

        Assert.Equal(tenant, (string?)me!["tenant"]);
        Assert.Equal(admin, (bool?)me["admin"]);
    }

    [Fact]
    public async Task The_history_answers_with_its_interval_and_no_samples_before_any_snapshot_was_built()
    {
        // The database is unreachable here, so no snapshot is ever built: the history is empty, not an error.
        var history = await gateway.Client(GatewayFactory.UserKey).GetFromJsonAsync<JsonObject>("/api/v1/stats/history");

        Assert.Equal(5.0, (double?)history!["intervalSeconds"]);
        Assert.Empty(history["samples"]!.AsArray());
    }

    [Theory]
    [InlineData("/api/v1/me")]
    [InlineData("/api/v1/stats/history")]
    public async Task Without_a_key_both_answer_401(string path)
    {
        var response = await gateway.Client(null).GetAsync(path);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

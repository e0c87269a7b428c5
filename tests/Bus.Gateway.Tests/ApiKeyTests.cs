using System.Net;
using Bus.Gateway.Auth;

namespace Bus.Gateway.Tests;

/// <summary>Keys by hash, several per tenant, the new-key command, and refusing development keys outside Development.</summary>
public sealed class ApiKeyTests
{
    const string Probe = "/api/v1/jobs?limit=0"; // answered 400 by validation after authentication, without a database

    static Dictionary<string, string?> Keys(params (string Field, string Value, string Tenant)[] keys)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < keys.Length; i++)
        {
            settings[$"Auth:ApiKeys:{i}:{keys[i].Field}"] = keys[i].Value;
            settings[$"Auth:ApiKeys:{i}:Tenant"] = keys[i].Tenant;
        }
        return settings;
    }

    [Fact]
    public async Task A_key_configured_only_by_its_hash_is_accepted_and_other_keys_are_not()
    {
        var key = ApiKeyHash.NewKey();
        await using var gateway = GatewayFactory.In("Production", Keys(("KeyHash", ApiKeyHash.Hex(key).ToUpperInvariant(), "t1")));

        Assert.Equal(HttpStatusCode.BadRequest, (await gateway.Client(key).GetAsync(Probe)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client(key + "x").GetAsync(Probe)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client(ApiKeyHash.Hex(key)).GetAsync(Probe)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await gateway.Client(null).GetAsync(Probe)).StatusCode);
    }

    [Fact]
    public async Task A_tenant_may_have_several_keys_for_rotation()
    {
        var (old, current) = (ApiKeyHash.NewKey(), ApiKeyHash.NewKey());
        await using var gateway = GatewayFactory.In("Production",
            Keys(("KeyHash", ApiKeyHash.Hex(old), "t1"), ("KeyHash", ApiKeyHash.Hex(current), "t1")));

        Assert.Equal(HttpStatusCode.BadRequest, (await gateway.Client(old).GetAsync(Probe)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await gateway.Client(current).GetAsync(Probe)).StatusCode);
    }

    [Fact]
    public async Task The_unauthenticated_answer_is_problem_json()
    {
        await using var gateway = new GatewayFactory();
        var response = await gateway.Client("no-such-key-0123456789").GetAsync(Probe);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void The_new_key_command_prints_a_key_and_the_hash_that_matches_it()
    {
        var output = new StringWriter();

        Assert.True(NewKeyCommand.TryRun([NewKeyCommand.Switch], output));
        var lines = output.ToString().Split('\n');
        var key = lines.Single(l => l.StartsWith("key:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var hash = lines.Single(l => l.StartsWith("KeyHash:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Equal(ApiKeyHash.Hex(key), hash);
        Assert.True(key.Length >= 40);
        Assert.False(NewKeyCommand.TryRun([], output));
    }

    [Theory]
    [InlineData("Key")]
    [InlineData("KeyHash")]
    public void Production_refuses_to_start_with_a_development_key(string field)
    {
        var value = field == "Key" ? GatewayFactory.AdminKey : ApiKeyHash.Hex(GatewayFactory.OtherTenantKey); // a development key, or its hash
        using var gateway = GatewayFactory.In("Production", Keys((field, value, "dev")));

        var failure = Assert.ThrowsAny<Exception>(() => gateway.CreateClient());
        Assert.Contains("development key", failure.ToString());
    }

    [Theory]
    [InlineData("KeyHash", "abc")]
    [InlineData("Key", "short")]
    public void A_malformed_key_stops_the_gateway_at_start(string field, string value)
    {
        using var gateway = GatewayFactory.In("Production", Keys((field, value, "t1")));

        Assert.ThrowsAny<Exception>(() => gateway.CreateClient());
    }
}

using System.Net;
using static Bus.Gateway.Tests.Problems;

namespace Bus.Gateway.Tests;

/// <summary>The request rate per key, and the answer when PostgreSQL does not answer.</summary>
public sealed class LimitTests
{
    const string Probe = "/api/v1/jobs?limit=0";

    [Fact]
    public async Task A_key_over_its_request_rate_gets_429_with_retry_after_and_other_keys_are_not_slowed()
    {
        await using var gateway = GatewayFactory.In("Development", new Dictionary<string, string?>
        {
            ["Limits:RequestsPerSecond"] = "1",
            ["Limits:RequestBurst"] = "3",
        });
        var busy = gateway.Client(GatewayFactory.UserKey);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 12 && refused is null; i++)
        {
            var response = await busy.GetAsync(Probe);
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                refused = response;
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], statuses.Take(3));
        Assert.NotNull(refused);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        // Another key of the same tenant has its own bucket.
        Assert.Equal(HttpStatusCode.BadRequest, (await gateway.Client(GatewayFactory.AdminKey).GetAsync(Probe)).StatusCode);
    }

    [Fact]
    public async Task A_valid_request_while_the_database_is_unreachable_answers_503_with_retry_after()
    {
        await using var gateway = new GatewayFactory();
        var api = gateway.Client(GatewayFactory.AdminKey);

        var (submitStatus, submit, submitResponse) = await Post(api, "/api/v1/jobs", Json("""{"requestId":"db-down","command":["/bin/true"]}"""));
        var (listStatus, _, listResponse) = await Get(api, "/api/v1/jobs");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, submitStatus);
        Assert.Contains("database", (string?)submit["detail"]);
        Assert.Equal("5", submitResponse.Headers.GetValues("Retry-After").Single());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, listStatus);
        Assert.True(listResponse.Headers.Contains("Retry-After"));
    }
}

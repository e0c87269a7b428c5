using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Gateway.Tests;

/// <summary>
/// The OpenAPI document the gateway generates from its endpoints, its interactive reference, and docs/api.md, which
/// must list the same operations. In process: none of this needs the infrastructure.
/// </summary>
public sealed partial class OpenApiDocumentTests(GatewayFactory gateway) : IClassFixture<GatewayFactory>
{
    static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    async Task<JsonObject> Document()
    {
        var response = await gateway.CreateClient().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    /// <summary>Every (METHOD, path) of the document under /api/, paths as the document writes them (<c>/api/v1/jobs/{jobId}</c>).</summary>
    static List<(string Method, string Path)> Operations(JsonObject document) =>
        document["paths"]!.AsObject()
            .Where(p => p.Key.StartsWith("/api/", StringComparison.Ordinal))
            .SelectMany(p => p.Value!.AsObject().Where(o => Methods.Contains(o.Key)).Select(o => (o.Key.ToUpperInvariant(), p.Key)))
            .ToList();

    [Fact]
    public async Task The_document_covers_every_API_endpoint_the_gateway_maps()
    {
        var documented = Operations(await Document()).ToHashSet();

        var mapped = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/") == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m =>
                (m, RouteConstraint().Replace(e.RoutePattern.RawText!.TrimEnd('/'), "{$1}"))))
            .ToHashSet();

        Assert.NotEmpty(mapped);
        Assert.Empty(mapped.Except(documented));
        Assert.Empty(documented.Except(mapped));
    }

    [Fact]
    public async Task The_health_and_metrics_endpoints_are_documented_and_need_no_key()
    {
        var paths = (await Document())["paths"]!.AsObject();

        foreach (var path in new[] { "/health/live", "/health/ready", "/metrics" })
        {
            var get = paths[path]?["get"];
            Assert.True(get is not null, $"GET {path} is not in the document");
            Assert.Null(get!["security"]);
            Assert.True(get["responses"]!.AsObject().ContainsKey("200"), $"GET {path} documents no 200");
        }
        Assert.True(paths["/health/ready"]!["get"]!["responses"]!.AsObject().ContainsKey("503"));
        var anonymous = gateway.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Every_API_operation_needs_the_key_and_documents_its_refusals_as_problems()
    {
        var document = await Document();
        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", (string?)schemes["bearer"]!["scheme"]);
        Assert.Equal(("apiKey", "header", "X-Api-Key"), ((string?)schemes["apiKeyHeader"]!["type"], (string?)schemes["apiKeyHeader"]!["in"], (string?)schemes["apiKeyHeader"]!["name"]));

        foreach (var (method, path) in Operations(document))
        {
            var operation = document["paths"]![path]![method.ToLowerInvariant()]!;
            var where = $"{method} {path}";
            Assert.True(operation["security"]?.AsArray().Count == 2, $"{where} has no security requirement");
            var responses = operation["responses"]!.AsObject();
            foreach (var status in new[] { "401", "429", "503" })
                Assert.True(responses.ContainsKey(status), $"{where} lacks {status}");
            foreach (var (status, response) in responses.Where(r => r.Key[0] is '4' or '5'))
            {
                Assert.True(response!["content"]?["application/problem+json"]?["schema"] is not null, $"{where} {status} is not problem+json");
                Assert.False(string.IsNullOrEmpty((string?)response["description"]), $"{where} {status} says nothing");
            }
        }

        var submit = document["paths"]!["/api/v1/jobs"]!["post"]!["responses"]!.AsObject();
        Assert.Equal(["200", "202", "400", "401", "409", "413", "415", "429", "503"], submit.Select(r => r.Key).Order());
        var batch = document["paths"]!["/api/v1/jobs:batch"]!["post"]!["responses"]!.AsObject();
        Assert.Equal(["200", "202", "400", "401", "413", "415", "429", "503"], batch.Select(r => r.Key).Order());
        Assert.True(document["paths"]!["/api/v1/sagas/{jobId}"]!["get"]!["responses"]!.AsObject().ContainsKey("403"));
        Assert.True(document["paths"]!["/api/v1/jobs/{jobId}/cancel"]!["post"]!["responses"]!.AsObject().ContainsKey("409"));
    }

    [Fact]
    public async Task The_submission_schema_carries_the_validators_limits()
    {
        var schemas = (await Document())["components"]!["schemas"]!;
        var request = schemas["SubmitJobRequest"]!["properties"]!;
        Assert.Equal(SubmitJobValidator.RequestIdRule, (string?)request["requestId"]!["pattern"]);
        Assert.Equal(128, (int?)request["requestId"]!["maxLength"]);
        Assert.Equal(SubmitJobValidator.MaxCommandArguments, (int?)request["command"]!["maxItems"]);
        Assert.Equal(("1", "10"), (Text(request["maxAttempts"]!["minimum"]), Text(request["maxAttempts"]!["maximum"])));
        Assert.Equal(SubmitJobValidator.MaxEnvironmentVariables, (int?)request["env"]!["maxProperties"]);
        var resources = schemas["ResourcesBody"]!["properties"]!;
        Assert.Equal((SubmitJobValidator.MaxCpus.ToString(), SubmitJobValidator.MaxGpus.ToString()),
            (Text(resources["cpus"]!["maximum"]), Text(resources["gpus"]!["maximum"])));
        Assert.Equal(SubmitJobValidator.MaxConstraintLength, (int?)schemas["ConstraintsBody"]!["properties"]!["pool"]!["maxLength"]);
        // The pattern means what the validator means: it refuses what the validator refuses.
        Assert.Matches(SubmitJobValidator.RequestIdRule, "build-4711");
        Assert.DoesNotMatch(SubmitJobValidator.RequestIdRule, "build 4711");
    }

    [Fact]
    public async Task The_interactive_reference_is_served_from_the_gateway_with_no_CDN()
    {
        var anonymous = gateway.CreateClient();
        var page = await anonymous.GetAsync("/reference");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();

        var scripts = ScriptSource().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.DoesNotContain(scripts, s => s.StartsWith("http", StringComparison.OrdinalIgnoreCase) || s.StartsWith("//"));
        var sizes = new List<int>();
        foreach (var script in scripts)
        {
            var asset = await anonymous.GetAsync(new Uri(new Uri("http://localhost/reference/"), script));
            Assert.True(asset.StatusCode == HttpStatusCode.OK, $"{script}: {asset.StatusCode}");
            sizes.Add((await asset.Content.ReadAsByteArrayAsync()).Length);
        }
        // The reference itself, not a loader that fetches it from elsewhere: Scalar's bundle is megabytes.
        Assert.True(sizes.Max() > 1_000_000, $"the scripts are {string.Join(", ", sizes)} bytes");
        // Scalar resolves the document against the application root.
        Assert.Contains("\"url\":\"openapi/v1.json\"", html);
    }

    [Fact]
    public async Task Docs_api_md_lists_exactly_the_documents_operations()
    {
        var documented = Operations(await Document()).Select(o => $"{o.Method} {o.Path}").ToHashSet();
        var markdown = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "api.md"));
        // `GET /api/v1/jobs/{jobId}`, `GET /api/v1/jobs?state=&...`: the method and the path up to its query.
        var inDocs = DocsOperation().Matches(markdown).Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value.TrimEnd('/')}").ToHashSet();

        Assert.Empty(documented.Except(inDocs));
        Assert.Empty(inDocs.Except(documented));
    }

    static string? Text(JsonNode? node) => node?.ToString();

    static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Bus.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"no Bus.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"\{([A-Za-z]+)(:[a-z]+)?\}")]
    private static partial Regex RouteConstraint();

    [GeneratedRegex("""<script[^>]*\ssrc="([^"]+)"[^>]*>""")]
    private static partial Regex ScriptSource();

    [GeneratedRegex(@"`(GET|POST|PUT|PATCH|DELETE) (/api/v1/[^`?\s]*)")]
    private static partial Regex DocsOperation();
}

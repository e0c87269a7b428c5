using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Bus.SystemTests.Support;
using Json.Schema;

namespace Bus.SystemTests;

/// <summary>
/// The gateway's OpenAPI document against the running system: every path it documents exists, and every response
/// the end-to-end tests recorded (<see cref="ResponseRecorder"/>), this class's own calls to every operation
/// included, validates against the document's schema for that operation and status.
/// </summary>
public sealed partial class OpenApiConformanceTests(RunningSystem system) : IClassFixture<RunningSystem>
{
    static readonly string[] Methods = ["get", "post", "put", "patch", "delete"];

    [Fact]
    public async Task Every_documented_operation_exists()
    {
        var document = await Document();
        var answers = await CallEveryOperation(document);

        Assert.NotEmpty(answers);
        Assert.All(answers, a => Assert.True(a.Status != HttpStatusCode.NotFound, $"{a.Operation} answered 404"));
    }

    [Fact]
    public async Task Every_recorded_response_validates_against_the_documents_schemas()
    {
        var document = await Document();
        await CallEveryOperation(document);
        // Refusals too: each comes with a problem body of its own shape.
        var anonymous = system.Client(null);
        await anonymous.GetAsync("/api/v1/jobs");
        await system.Api.GetAsync($"/api/v1/jobs/{Guid.NewGuid()}");
        await system.Api.GetAsync("/api/v1/jobs?limit=0");
        await system.Api.PostAsync("/api/v1/jobs", new StringContent("{\"requestId\":", Encoding.UTF8, "application/json"));
        await system.Client(RunningSystem.UserKey).GetAsync($"/api/v1/sagas/{Guid.NewGuid()}");
        var requestId = $"openapi-{Guid.NewGuid():N}";
        await system.Submit(new { requestId, command = new[] { "/bin/true" } });
        await system.Submit(new { requestId, command = new[] { "/bin/false" } });
        // An array retry: one element already accepted, one refused for its other body (a 200), then an invalid batch.
        await system.SubmitBatch([new { requestId, command = new[] { "/bin/true" } }, new { requestId = $"{requestId}-b", command = new[] { "/bin/true" } }]);
        await system.SubmitBatch([new { requestId, command = new[] { "/bin/false" } }, new { requestId = $"{requestId}-b", command = new[] { "/bin/true" } }]);
        await system.SubmitBatch([new { requestId }]);

        var schemas = new OperationSchemas(document);
        var checkedCount = 0;
        var failures = new List<string>();
        foreach (var response in ResponseRecorder.All)
        {
            if (schemas.For(response) is not { } schema)
                continue;
            checkedCount++;
            var results = schema.Evaluate(JsonDocument.Parse(response.Body).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!results.IsValid)
                failures.Add($"{response.Method} {response.Path} {response.Status}: " + string.Join("; ",
                    (results.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation} {e.Value}")).Take(5)) +
                    $"\n  body: {(response.Body.Length > 300 ? response.Body[..300] + "…" : response.Body)}");
        }

        Assert.True(checkedCount >= 20, $"only {checkedCount} responses were checked");
        Assert.True(schemas.Undocumented.Count == 0, "answers the document does not list: " + string.Join(", ", schemas.Undocumented));
        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct().Take(20)));
    }

    async Task<JsonObject> Document() => (await system.Client(null).GetFromJsonAsync<JsonObject>("/openapi/v1.json"))!;

    /// <summary>Calls each documented operation once with the admin key, on real objects: a job, a worker to drain.</summary>
    async Task<List<(string Operation, HttpStatusCode Status)>> CallEveryOperation(JsonObject document)
    {
        var (_, job) = await system.Submit(new { requestId = $"openapi-{Guid.NewGuid():N}", command = new[] { "/bin/sleep", "60" } });
        var jobId = (string)job["jobId"]!;
        await system.WaitForJob(jobId, "Running");
        var workerId = $"openapi-{Guid.NewGuid():N}"[..20];
        await system.StartWorker(workerId, 1);

        var answers = new List<(string, HttpStatusCode)>();
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Where(o => Methods.Contains(o.Key)).Select(o => (Method: o.Key.ToUpperInvariant(), Path: p.Key)))
            // Cancelling last, so every other call sees the job as it was; a catalogue entry is made before it is deleted.
            .OrderBy(o => o.Path.EndsWith("/cancel") ? 1 : 0).ThenBy(o => o.Method == "DELETE" ? 1 : 0);
        var service = $"openapi-{Guid.NewGuid():N}"[..20]; // an entry of this test's own, so no other test loses one
        foreach (var (method, path) in operations)
        {
            var url = path.Replace("{jobId}", jobId).Replace("{workerId}", workerId).Replace("{service}", service);
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method == "POST" && path is "/api/v1/jobs" or "/api/v1/jobs:explain")
                request.Content = JsonContent.Create(new { requestId = $"openapi-{Guid.NewGuid():N}", command = new[] { "/bin/true" } });
            if (method == "POST" && path == "/api/v1/jobs:batch")
                request.Content = JsonContent.Create(new { jobs = new[] { new { requestId = $"openapi-{Guid.NewGuid():N}", command = new[] { "/bin/true" } } } });
            if (method == "PUT" && path == "/api/v1/services/{service}")
                request.Content = JsonContent.Create(new { description = "made by the OpenAPI test" });
            if (path.EndsWith("/events"))
                request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("text/event-stream"));
            // A stream answers with its headers at once and then stays open: its status is all this needs.
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                using var response = await system.Api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                answers.Add(($"{method} {path}", response.StatusCode));
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"{method} {path} did not answer within 20 s");
            }
        }
        return answers;
    }

    /// <summary>
    /// The schema of each documented (operation, status, media type), as a JSON Schema with the document's components
    /// as <c>$defs</c>: OpenAPI 3.1 schemas are JSON Schema 2020-12.
    /// </summary>
    sealed class OperationSchemas(JsonObject document)
    {
        readonly Dictionary<string, JsonSchema?> _built = [];

        /// <summary>(operation, status, media type) answers seen that the document does not describe.</summary>
        public HashSet<string> Undocumented { get; } = [];
        int _count;

        public JsonSchema? For(RecordedResponse response)
        {
            if (response.Body.Length == 0 || response.MediaType is not ("application/json" or "application/problem+json"))
                return null;
            var path = document["paths"]!.AsObject().FirstOrDefault(p => Template(p.Key).IsMatch(response.Path));
            if (path.Value?[response.Method.ToLowerInvariant()]?["responses"] is not JsonObject responses)
                return null; // not an API operation: the dashboard, health, metrics
            var key = $"{response.Method} {path.Key} {response.Status} {response.MediaType}";
            if (_built.TryGetValue(key, out var cached))
                return cached;
            var content = (responses[response.Status.ToString()] ?? responses["default"])?["content"];
            if (content?[response.MediaType]?["schema"] is not { } schema)
            {
                // An answer the document does not list at all: no schema can accept it.
                Undocumented.Add(key);
                return _built[key] = null;
            }
            var root = new JsonObject
            {
                ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
                ["$defs"] = document["components"]?["schemas"]?.DeepClone() ?? new JsonObject(),
                ["allOf"] = new JsonArray(schema.DeepClone()),
            };
            var text = root.ToJsonString().Replace("#/components/schemas/", "#/$defs/");
            return _built[key] = JsonSchema.FromText(text, new BuildOptions(), new Uri($"https://bus.test/schemas/{_count++}"));
        }

        static Regex Template(string path) => new("^" + Regex.Escape(path).Replace(@"\{", "{").Replace("}", "}")
            .Replace("{jobId}", "[^/]+").Replace("{workerId}", "[^/]+") + "/?$");
    }
}

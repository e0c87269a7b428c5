using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Bus.Gateway.Tests;

/// <summary>Sending raw requests and reading problem+json answers.</summary>
public static class Problems
{
    public static HttpContent Json(string body) => new StringContent(body, Encoding.UTF8, "application/json");

    public static async Task<(HttpStatusCode Status, JsonObject Problem, HttpResponseMessage Response)> Post(HttpClient client, string path, HttpContent? content)
    {
        var response = await client.PostAsync(path, content);
        return (response.StatusCode, await ReadProblem(response), response);
    }

    public static async Task<(HttpStatusCode Status, JsonObject Problem, HttpResponseMessage Response)> Get(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        return (response.StatusCode, await ReadProblem(response), response);
    }

    /// <summary>The body, which must be problem+json.</summary>
    static async Task<JsonObject> ReadProblem(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.IsSuccessStatusCode)
            return JsonNode.Parse(text)?.AsObject() ?? [];
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json",
            $"{(int)response.StatusCode} answered {response.Content.Headers.ContentType} instead of problem+json: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The per-field errors of a validation problem.</summary>
    public static IReadOnlyDictionary<string, string> FieldErrors(JsonObject problem) =>
        (problem["errors"]?.AsObject() ?? []).ToDictionary(e => e.Key, e => string.Join(" ", e.Value!.AsArray().Select(m => (string?)m)));
}

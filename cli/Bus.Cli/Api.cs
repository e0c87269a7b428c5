using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Bus.Cli;

/// <summary>
/// The gateway's HTTP API as the commands use it. Answers stay JSON nodes rather than typed records, so a newer
/// gateway's extra fields neither break the CLI nor need a release of it.
/// </summary>
public sealed class Api(CliSettings settings) : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    readonly HttpClient _http = Client(settings, TimeSpan.FromSeconds(30));
    readonly HttpClient _streams = Client(settings, Timeout.InfiniteTimeSpan);

    static HttpClient Client(CliSettings settings, TimeSpan timeout)
    {
        if (settings.ApiKey is null)
            throw new CliException($"no API key: set BUS_API_KEY, or 'apiKey' in {CliSettings.ConfigFile}.");
        var http = new HttpClient { BaseAddress = settings.Url, Timeout = timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);
        return http;
    }

    public Task<JsonNode> Get(string path, CancellationToken cancellationToken) =>
        Send(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken);

    public Task<JsonNode> Post(string path, JsonNode? body, CancellationToken cancellationToken) =>
        Send(new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body, options: Json) },
            cancellationToken);

    /// <summary>An open <c>text/event-stream</c>: no timeout, since a stream lasts as long as the user watches.</summary>
    public async Task<Stream> Stream(string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        HttpResponseMessage response;
        try
        {
            response = await _streams.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach {settings.Url}: {e.Message}");
        }
        if (!response.IsSuccessStatusCode)
            throw new CliException(Describe(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken)));
        return await response.Content.ReadAsStreamAsync(cancellationToken);
    }

    async Task<JsonNode> Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CliException($"cannot reach {settings.Url}: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"{settings.Url} did not answer within {_http.Timeout.TotalSeconds:0} s.");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
                throw new CliException(Describe(response.StatusCode, text));
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
        }
    }

    /// <summary>One readable line from a problem+json answer: its title, detail and per-field errors.</summary>
    static string Describe(HttpStatusCode status, string body)
    {
        var message = $"{(int)status} {status}";
        try
        {
            if (JsonNode.Parse(body) is JsonObject problem)
            {
                if ((string?)problem["title"] is { } title) message += $": {title}";
                if ((string?)problem["detail"] is { } detail) message += $" ({detail})";
                if (problem["errors"] is JsonObject errors)
                    message += string.Concat(errors.Select(e => $"\n  {e.Key}: {string.Join(" ", e.Value?.AsArray().Select(m => (string?)m) ?? [])}"));
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page, say): the status line alone says enough.
        }
        return status == HttpStatusCode.Unauthorized ? message + "\n  check BUS_API_KEY" : message;
    }

    public void Dispose()
    {
        _http.Dispose();
        _streams.Dispose();
    }
}

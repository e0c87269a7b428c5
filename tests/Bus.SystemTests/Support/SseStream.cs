using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace Bus.SystemTests.Support;

/// <summary>One Server-Sent Event as a client receives it.</summary>
public sealed record SseEvent(string? Type, string? Id, JsonObject Data)
{
    public string State => (string)Data["state"]!;
    public override string ToString() => $"{Type} {Id} {Data.ToJsonString()}";
}

/// <summary>
/// A Server-Sent Events client for tests: opens the stream, then reads one event at a time with a deadline, the way a
/// browser's EventSource would see them (it sends <c>Last-Event-ID</c> when resuming).
/// </summary>
public sealed class SseStream : IAsyncDisposable
{
    readonly HttpResponseMessage _response;
    readonly StreamReader _reader;

    SseStream(HttpResponseMessage response, StreamReader reader) => (_response, _reader) = (response, reader);

    public static async Task<SseStream> Open(HttpClient client, string path, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is not null)
            request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new SseStream(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>The next event, or null when the server ended the stream.</summary>
    public async Task<SseEvent?> Next(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        string? type = null, id = null, data = null;
        while (await _reader.ReadLineAsync(deadline.Token) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                    return new SseEvent(type, id, JsonNode.Parse(data)!.AsObject());
                continue;
            }
            var (field, value) = line.IndexOf(':') is var colon and > 0 ? (line[..colon], line[(colon + 1)..].TrimStart()) : (line, "");
            switch (field)
            {
                case "event": type = value; break;
                case "id": id = value; break;
                case "data": data = data is null ? value : data + "\n" + value; break;
            }
        }
        return null;
    }

    /// <summary>Events until and including the one <paramref name="last"/> picks, or until the stream ends.</summary>
    public async Task<List<SseEvent>> Until(Func<SseEvent, bool> last, TimeSpan timeout)
    {
        var events = new List<SseEvent>();
        var deadline = DateTime.UtcNow + timeout;
        while (await Next(deadline - DateTime.UtcNow) is { } e)
        {
            events.Add(e);
            if (last(e))
                break;
        }
        return events;
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}

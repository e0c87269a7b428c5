using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Bus.SystemTests.Support;

/// <summary>
/// A model server for the answers the sample cannot give: it records each request and answers it with a fixed status
/// and body, or, without one, never answers, as a server stuck on a model would. It notes when the client closes the
/// connection, so a test can see that stopping an attempt really aborts its request.
/// </summary>
public sealed class RecordingModelServer : IAsyncDisposable
{
    readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentQueue<Request> _requests = new();
    readonly Task _accepting;

    /// <summary>One request taken: its JSON body, and whether the client has closed the connection since.</summary>
    public sealed class Request(JsonObject body)
    {
        public JsonObject Body { get; } = body;
        public bool Closed { get; internal set; }
    }

    readonly (int Status, string Body)? _answer;

    /// <param name="answer">What every request is answered; null: nothing, ever.</param>
    public RecordingModelServer((int Status, string Body)? answer = null)
    {
        _answer = answer;
        _listener.Start();
        _accepting = Accept();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/synthesize";

    public IReadOnlyList<Request> Requests => _requests.ToArray();

    async Task Accept()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (OperationCanceledException) { return; }
            _ = Hold(client);
        }
    }

    async Task Hold(TcpClient client)
    {
        using var _ = client;
        var stream = client.GetStream();
        var received = new List<byte>();
        var buffer = new byte[8192];
        Request? request = null;
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, _stop.Token)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, read));
                if (request is null && TryParse(received.ToArray()) is { } body)
                {
                    _requests.Enqueue(request = new Request(body));
                    if (_answer is var (status, text))
                        await stream.WriteAsync(Encoding.UTF8.GetBytes(
                            $"HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(text)}\r\n" +
                            $"Connection: close\r\n\r\n{text}"), _stop.Token);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
        }
        if (request is not null)
            request.Closed = true; // read returned 0 (or the peer reset it): the client gave up on the request
    }

    /// <summary>The JSON body once headers and all of Content-Length have arrived.</summary>
    static JsonObject? TryParse(byte[] received)
    {
        var text = Encoding.UTF8.GetString(received);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
            return null;
        var headers = text[..end].Split("\r\n");
        var length = headers.Select(h => h.Split(':', 2)).Where(h => h.Length == 2 && h[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            .Select(h => int.Parse(h[1].Trim())).FirstOrDefault(-1);
        var bodyStart = Encoding.UTF8.GetByteCount(text[..(end + 4)]);
        if (length < 0 || received.Length - bodyStart < length)
            return null;
        return JsonNode.Parse(Encoding.UTF8.GetString(received, bodyStart, length))!.AsObject();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

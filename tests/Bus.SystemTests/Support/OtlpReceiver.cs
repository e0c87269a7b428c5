using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;

namespace Bus.SystemTests.Support;

/// <summary>One span as a service exported it.</summary>
public sealed record ReceivedSpan(string Service, string TraceId, string SpanId, string Name, IReadOnlyDictionary<string, string> Attributes);

/// <summary>
/// A receiver of the test's own for OTLP over HTTP (protobuf), the format the services export with the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> variables. It reads just the fields a test asserts on, walking the wire format with
/// Google.Protobuf's reader, so no generated OTLP types are needed.
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    readonly HttpListener _listener = new();
    readonly ConcurrentQueue<ReceivedSpan> _spans = new();

    public Uri Endpoint { get; }

    public IReadOnlyCollection<ReceivedSpan> Spans => _spans;

    public OtlpReceiver()
    {
        Endpoint = new Uri($"http://127.0.0.1:{RunningSystem.FreePort()}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _ = Serve();
    }

    async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) when (!_listener.IsListening) { return; }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
                Read(body.ToArray());
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    // ExportTraceServiceRequest { 1: ResourceSpans }; ResourceSpans { 1: Resource { 1: KeyValue }, 2: ScopeSpans };
    // ScopeSpans { 2: Span }; Span { 1: trace_id, 2: span_id, 5: name, 9: KeyValue }.
    void Read(byte[] request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            var service = Fields(resourceSpans, 1).SelectMany(resource => Attributes(resource, 1)).FirstOrDefault(a => a.Key == "service.name").Value ?? "";
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            foreach (var span in Fields(scopeSpans, 2))
                _spans.Enqueue(new ReceivedSpan(service,
                    Convert.ToHexStringLower(Fields(span, 1).First()), Convert.ToHexStringLower(Fields(span, 2).First()),
                    System.Text.Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault() ?? []),
                    Attributes(span, 9).GroupBy(a => a.Key).ToDictionary(g => g.Key, g => g.Last().Value)));
        }
    }

    /// <summary>KeyValue { 1: key, 2: AnyValue { 1: string, 3: int64 } }, as strings.</summary>
    static IEnumerable<KeyValuePair<string, string>> Attributes(byte[] message, int field) =>
        Fields(message, field).Select(kv =>
        {
            var key = System.Text.Encoding.UTF8.GetString(Fields(kv, 1).FirstOrDefault() ?? []);
            var value = Fields(kv, 2).FirstOrDefault() is { } any ? Scalar(any) : "";
            return new KeyValuePair<string, string>(key, value);
        });

    static string Scalar(byte[] anyValue)
    {
        var input = new CodedInputStream(anyValue);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: return input.ReadString();
                case 3: return input.ReadInt64().ToString();
                default: input.SkipLastField(); break;
            }
        return "";
    }

    /// <summary>The raw bytes of every length-delimited field <paramref name="number"/> of a message.</summary>
    static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes().ToByteArray());
            else
                input.SkipLastField();
        }
        return found;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}

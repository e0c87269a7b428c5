using System.Collections.Concurrent;

namespace Bus.SystemTests.Support;

/// <summary>One answer of the API as a test client saw it.</summary>
public sealed record RecordedResponse(string Method, string Path, int Status, string? MediaType, string Body);

/// <summary>
/// Sits under every API client the end-to-end tests make (<see cref="RunningSystem.Client"/>) and keeps each answer,
/// so the OpenAPI test can check every response the suite saw against the document's schemas. Streams are kept
/// without their body: reading it here would wait for the stream to end.
/// </summary>
public sealed class ResponseRecorder(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    const int MaxBodyChars = 256 * 1024;
    static readonly ConcurrentQueue<RecordedResponse> Recorded = new();

    /// <summary>Everything recorded in this test process so far.</summary>
    public static IReadOnlyCollection<RecordedResponse> All => Recorded.ToArray();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var body = "";
        if (mediaType is not null and not "text/event-stream")
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            body = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        if (body.Length <= MaxBodyChars)
            Recorded.Enqueue(new RecordedResponse(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, mediaType, body));
        return response;
    }
}

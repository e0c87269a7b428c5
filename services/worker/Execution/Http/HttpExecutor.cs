using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Bus.Contracts;
using Microsoft.Extensions.Options;

namespace Bus.Worker.Execution.Http;

/// <summary>
/// Serves one model service (<c>tts</c>, <c>asr</c>, ...) by POSTing each attempt to a model server on this host and
/// taking its JSON answer as the job's result. Stopping the attempt (cancel, timeout, shutdown) aborts the request.
/// A connection refused, a 5xx or an answer that is not JSON fails the attempt (a 4xx fails the job: the request
/// itself was refused); "model not available" (a 503 whose
/// body's <c>error</c> is <see cref="ModelNotAvailable"/>, or <see cref="HttpExecutorOptions.ModelNotAvailableStatus"/>)
/// is not the job's fault and hands it back through <see cref="ServiceUnavailableException"/>.
/// </summary>
public sealed class HttpExecutor(
    string service,
    ModelEndpoint endpoint,
    IHttpClientFactory clients,
    IOptions<HttpExecutorOptions> options,
    TimeProvider clock) : IJobExecutor
{
    /// <summary>The HTTP client every model service shares (one connection pool; see WorkerExtensions).</summary>
    public const string ClientName = "model-servers";

    /// <summary>The <c>error</c> of a 503 body that means the model is not loaded here.</summary>
    public const string ModelNotAvailable = "MODEL_NOT_AVAILABLE";

    const int OutputBytes = 4096; // of a refusal's body, shown as the job's output
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string Service => service;

    public async Task<ExecutionResult> Run(RunJob job, Func<int?, Task> started, CancellationToken stop)
    {
        var url = endpoint.For(job.Language);
        var request = new ModelServerRequest(job.JobId, job.Attempt, job.Service, job.Language,
            clock.GetUtcNow() + TimeSpan.FromSeconds(job.TimeoutSeconds),
            job.PayloadJson is null ? null : JsonDocument.Parse(job.PayloadJson).RootElement);
        // Buffered, so it goes with a Content-Length: a model server need not read a chunked body.
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request, Json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var message = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        await started(null);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, stop);
            var limit = options.Value.MaxResultBytes;
            var (body, complete) = await ReadAtMost(response.Content, limit, stop);
            if (IsModelNotAvailable(response.StatusCode, body, out var reason))
                throw new ServiceUnavailableException($"the model server at {url} answered model-not-available: {reason}");
            if (!response.IsSuccessStatusCode)
                return new ExecutionResult(null, Text(body), $"the model server answered {(int)response.StatusCode} {response.ReasonPhrase}",
                    Retryable: IsWorthRetrying(response.StatusCode));
            if (!complete)
                return new ExecutionResult(null, "", $"the model server's result is larger than Worker:Http:MaxResultBytes ({limit} bytes)");
            return ResultOf(body);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExecutionResult.Stopped(""); // the request is aborted with it: the connection is closed
        }
        catch (HttpRequestException e)
        {
            return new ExecutionResult(null, "", $"the model server at {url} could not be reached: {e.Message}");
        }
        catch (IOException e)
        {
            return new ExecutionResult(null, "", $"the model server at {url} broke off its answer: {e.Message}");
        }
    }

    /// <summary>A server error may pass; a refusal of the request itself (4xx: bad payload) will not, except these two.</summary>
    static bool IsWorthRetrying(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;

    /// <summary>A success whose body is one JSON value, storable as it is (PostgreSQL's jsonb holds no NUL character).</summary>
    static ExecutionResult ResultOf(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var json = Encoding.UTF8.GetString(body);
            if (json.Contains("\\u0000", StringComparison.Ordinal))
                return new ExecutionResult(null, "", "the model server's result holds a NUL character, which cannot be stored");
            return new ExecutionResult(0, "", null, ResultJson: json);
        }
        catch (JsonException)
        {
            return new ExecutionResult(null, Text(body), "the model server's answer is not JSON");
        }
    }

    bool IsModelNotAvailable(HttpStatusCode status, byte[] body, out string reason)
    {
        reason = "";
        if (options.Value.ModelNotAvailableStatus == (int)status)
        {
            reason = $"status {(int)status}";
            return true;
        }
        if (status != HttpStatusCode.ServiceUnavailable)
            return false;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement is not { ValueKind: JsonValueKind.Object } answer
                || !answer.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.String
                || error.GetString() != ModelNotAvailable)
                return false;
            reason = answer.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String
                ? detail.GetString()! : ModelNotAvailable;
            return true;
        }
        catch (JsonException)
        {
            return false; // a 503 without the documented body is a plain server error
        }
    }

    /// <summary>Reads the body, but never more than one byte past <paramref name="limit"/>: a huge answer costs nothing.</summary>
    static async Task<(byte[] Body, bool Complete)> ReadAtMost(HttpContent content, int limit, CancellationToken stop)
    {
        if (content.Headers.ContentLength > limit)
            return ([], false);
        await using var stream = await content.ReadAsStreamAsync(stop);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, stop)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
                return (buffer.ToArray(), false);
        }
        return (buffer.ToArray(), true);
    }

    static string Text(byte[] body) => Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, OutputBytes));
}

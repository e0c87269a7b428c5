namespace Bus.Worker.Execution.Http;

/// <summary>
/// Model services this worker serves through the <c>http</c> executor: each maps a service, optionally per language,
/// to a model server's endpoint on this host. Bound from the <c>Worker:Http</c> section; see docs/model-services.md.
/// </summary>
public sealed class HttpExecutorOptions
{
    public const string Section = "Worker:Http";

    /// <summary>
    /// The endpoint of each model service, by service name, e.g. <c>tts</c> →
    /// <c>{ "Url": "http://127.0.0.1:9101/synthesize" }</c>. A service named here must also be listed in
    /// <c>Worker:Services</c> to be offered, and may not be <c>shell</c> or <c>noop</c>. Default: none.
    /// </summary>
    public Dictionary<string, ModelEndpoint> Services { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The largest result a model server may answer, in bytes of JSON. A larger answer fails the attempt (it is retried
    /// as any failed attempt is). Default 1 MiB; at most 16 MiB, since the result travels in the final report.
    /// </summary>
    public int MaxResultBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// A status code that means "model not available" whatever the body, for model servers that cannot answer the
    /// documented 503 body. The answer is then a service-unavailable report, not a failure. Default: none (only a 503
    /// whose body's <c>error</c> is <c>MODEL_NOT_AVAILABLE</c> means it).
    /// </summary>
    public int? ModelNotAvailableStatus { get; set; }

    /// <summary>How long connecting to a model server may take before the attempt fails. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>Where one model service answers: one URL, or one per language.</summary>
public sealed class ModelEndpoint
{
    /// <summary>
    /// The URL the job's request is POSTed to, e.g. <c>http://127.0.0.1:9101/synthesize</c>; absolute http(s), and
    /// without <c>user:password@</c>, since URLs are logged and shown in a failed job's error.
    /// </summary>
    public string Url { get; set; } = "";

    /// <summary>
    /// URLs for some languages instead of <see cref="Url"/>, by the job's <c>constraints.language</c>, e.g.
    /// <c>zh</c> → <c>http://127.0.0.1:9102/synthesize</c>. A job in another language, or in none, goes to
    /// <see cref="Url"/>. Default: none.
    /// </summary>
    public Dictionary<string, string> Languages { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The URL for a job in <paramref name="language"/>.</summary>
    public string For(string? language) =>
        language is not null && Languages.TryGetValue(language, out var url) ? url : Url;

    /// <summary>Every URL configured, for validation.</summary>
    public IEnumerable<string> AllUrls => Languages.Values.Prepend(Url);
}

namespace Bus.Gateway.Limits;

/// <summary>
/// What one tenant and one API key may use of the gateway. Bound from the <c>Limits</c> section; every limit here is
/// also listed in <c>docs/api.md</c>. The per-request readers (quota, rate, stats) go through <c>LastKnownGood</c>:
/// a reload applies without a restart, and one that fails validation is logged once and ignored.
/// </summary>
public sealed class LimitOptions
{
    public const string Section = "Limits";

    /// <summary>
    /// The most jobs a tenant may have Pending, Allocated or Running at once. A submission over it answers 429 with
    /// <c>Retry-After</c> (<see cref="QuotaRetryAfter"/>); a retry of a request already accepted is never refused.
    /// Default 10,000.
    /// </summary>
    public int MaxActiveJobsPerTenant { get; set; } = 10_000;

    /// <summary>Per-tenant overrides of <see cref="MaxActiveJobsPerTenant"/>, by tenant name. Default none.</summary>
    public Dictionary<string, int> MaxActiveJobs { get; set; } = [];

    /// <summary>
    /// How long a tenant's counted active jobs are reused by the quota check, with what this gateway accepted since
    /// added: the count reads every active job of the tenant (about 1 ms at 10,000), and the estimate errs only high,
    /// so a submission it would refuse is always counted exactly first. Another gateway's acceptances within this time
    /// are not seen, which the soft cap allows. Zero counts on every submission. Default 1 s.
    /// </summary>
    public TimeSpan QuotaCountMaxAge { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The <c>Retry-After</c> of a 429 for the active-jobs quota: jobs take a while to finish. Default 10 s.</summary>
    public TimeSpan QuotaRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Requests per second one API key may make, on average, to <c>/api/</c> (a token bucket refilled this many times
    /// a second). Over it: 429 with <c>Retry-After</c>. Default 100.
    /// </summary>
    public int RequestsPerSecond { get; set; } = 100;

    /// <summary>How many requests one API key may make at once above the average (the bucket's size). Default 200.</summary>
    public int RequestBurst { get; set; } = 200;

    /// <summary>
    /// The largest request body the gateway reads, in bytes; more answers 413. A job request's own limits (command,
    /// payload) fit well inside it. Default 256 KiB.
    /// </summary>
    public int MaxRequestBodyBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// The largest body of an array submission (<c>POST /api/v1/jobs:batch</c>), in bytes; more answers 413. Its own
    /// limit, since a batch holds up to 1,000 submissions: 1,000 short shell jobs take about 100 KiB. Default 8 MiB.
    /// </summary>
    public int MaxBatchRequestBodyBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>The <c>Retry-After</c> of a 503 when PostgreSQL, Redis or RabbitMQ does not answer. Default 5 s.</summary>
    public TimeSpan UnavailableRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The active-jobs quota of <paramref name="tenant"/>.</summary>
    public int MaxActiveJobsOf(string tenant) => MaxActiveJobs.TryGetValue(tenant, out var max) ? max : MaxActiveJobsPerTenant;
}

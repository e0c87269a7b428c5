using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace Bus.Hosting.Telemetry;

/// <summary>
/// Opens the logging scope of one job: <c>jobId</c>, <c>attempt</c> and <c>workerId</c> as properties of every line
/// logged inside it, by any logger (scopes belong to the logger factory, not to one category). The JSON console
/// writes them as fields, so a log shipper can find every line of a job without parsing messages.
/// </summary>
public sealed class JobLogScopes(ILogger<JobLogScopes> logger, IConfiguration configuration)
{
    /// <summary>This process's worker id, for messages that name a job but no worker (a worker's own lines).</summary>
    readonly string? _localWorkerId = configuration["Worker:Id"];

    /// <summary>A scope for the job <paramref name="message"/> is about; null when it is about no job.</summary>
    public IDisposable? Begin<T>(T message) where T : class
    {
        if (JobMessageFields<T>.JobId?.GetValue(message) is not Guid jobId)
            return null;
        var attempt = JobMessageFields<T>.Attempt?.GetValue(message) as int?;
        var workerId = JobMessageFields<T>.WorkerId?.GetValue(message) as string ?? _localWorkerId;
        return Begin(jobId, attempt, workerId);
    }

    /// <summary>A scope for one job, for code that works on a job outside a message's handling.</summary>
    public IDisposable? Begin(Guid jobId, int? attempt, string? workerId) =>
        logger.BeginScope(new JobScope(jobId, attempt, workerId));

    /// <summary>The scope's state: its properties for the JSON console, one short phrase for the text one.</summary>
    sealed class JobScope(Guid jobId, int? attempt, string? workerId) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 3;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("jobId", jobId),
            1 => new("attempt", attempt),
            2 => new("workerId", workerId),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
                yield return this[i];
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() =>
            $"job {jobId}{(attempt is { } a ? $" attempt {a}" : "")}{(workerId is { } w ? $" on {w}" : "")}";
    }
}

/// <summary>Every consumed message about a job is handled inside that job's logging scope.</summary>
public sealed class JobLogScopeFilter<T>(JobLogScopes scopes) : IFilter<ConsumeContext<T>> where T : class
{
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        using var scope = scopes.Begin(context.Message);
        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("jobLogScope");
}

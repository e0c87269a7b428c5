using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Bus.Contracts;
using Bus.Gateway.Jobs;
using Bus.Persistence.Jobs;

namespace Bus.Gateway.Events;

/// <summary>
/// One Server-Sent Events stream: the job's current state first (per-job streams without <c>Last-Event-ID</c>), then
/// what the table holds after the client's cursor, then live events, each with its cursor as <c>id:</c>. A per-job
/// stream ends after the job's final state with an <c>end</c> event.
/// </summary>
public static class JobEventStream
{
    public const string StateEvent = "state";
    public const string EndEvent = "end";

    /// <param name="from">Where the stream starts: the client's <c>Last-Event-ID</c>, or the horizon taken before
    /// <paramref name="job"/> was read, so nothing that changed after that read can be missed.</param>
    /// <param name="resumed">Whether <paramref name="from"/> is the client's: then no snapshot is sent again.</param>
    /// <param name="jobs">Where a per-job stream reads the job's result for its final state, so a client needs the
    /// stream alone.</param>
    public static async IAsyncEnumerable<SseItem<JobEvent>> Read(
        JobEventFeed feed, JobEventStore store, string tenant, JobDetails? job, EventCursor from, bool resumed,
        [EnumeratorCancellation] CancellationToken cancellationToken, JobStore? jobs = null)
    {
        var jobId = job?.JobId;
        // Subscribed before the replay below reads the table, so the two overlap rather than leave a gap.
        using var live = await feed.Subscribe(tenant, jobId, cancellationToken);
        var cursor = from;

        if (job is not null && !resumed)
        {
            var current = new JobEvent(job.JobId, job.State, null, "Snapshot", job.Attempt, job.WorkerId, job.PendingReason,
                job.ExitCode, job.Error, DateTimeOffset.UtcNow, job.Result);
            yield return Item(current, cursor);
            if (current.IsFinal)
            {
                yield return End(current, cursor);
                yield break;
            }
        }

        while (true)
        {
            var page = await store.After(cursor, tenant, jobId, 500, cancellationToken);
            foreach (var stored in page)
            {
                cursor = stored.Cursor;
                if (jobId is not null && stored.Event.IsFinal)
                {
                    var final = await WithResult(stored.Event, tenant, jobs, cancellationToken);
                    yield return Item(final, cursor);
                    yield return End(final, cursor);
                    yield break;
                }
                yield return Item(stored.Event, cursor);
            }
            if (page.Count < 500)
                break;
        }

        // A resumed stream of a job that had already ended before the client's cursor: nothing is left but the end.
        if (job is not null && JobStates.IsFinal(job.State))
        {
            yield return End(new JobEvent(job.JobId, job.State, null, "Snapshot", job.Attempt, job.WorkerId, null, job.ExitCode,
                job.Error, DateTimeOffset.UtcNow, job.Result), cursor);
            yield break;
        }

        await foreach (var stored in live.Events.ReadAllAsync(cancellationToken))
        {
            if (!(stored.Cursor > cursor))
                continue; // already sent by the replay
            cursor = stored.Cursor;
            if (jobId is not null && stored.Event.IsFinal)
            {
                var final = await WithResult(stored.Event, tenant, jobs, cancellationToken);
                yield return Item(final, cursor);
                yield return End(final, cursor);
                yield break;
            }
            yield return Item(stored.Event, cursor);
        }
    }

    /// <summary>
    /// A final state with the job's result. The saga wrote the result in the same transaction as the transition, so
    /// once the transition is readable the result is too; a final state is final, so the row's result is this one's.
    /// </summary>
    static async Task<JobEvent> WithResult(JobEvent final, string tenant, JobStore? jobs, CancellationToken cancellationToken) =>
        final.State == JobStates.Completed && jobs is not null && await jobs.Result(tenant, final.JobId, cancellationToken) is { } result
            ? final with { Result = result }
            : final;

    static SseItem<JobEvent> Item(JobEvent e, EventCursor cursor) => new(e, StateEvent) { EventId = cursor.ToString() };

    static SseItem<JobEvent> End(JobEvent e, EventCursor cursor) => new(e, EndEvent) { EventId = cursor.ToString() };
}

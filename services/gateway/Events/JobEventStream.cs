using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Bus.Gateway.Jobs;

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
    public static async IAsyncEnumerable<SseItem<JobEvent>> Read(
        JobEventFeed feed, JobEventStore store, string tenant, JobDetails? job, EventCursor from, bool resumed,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var jobId = job?.JobId;
        // Subscribed before the replay below reads the table, so the two overlap rather than leave a gap.
        using var live = await feed.Subscribe(tenant, jobId, cancellationToken);
        var cursor = from;

        if (job is not null && !resumed)
        {
            var current = new JobEvent(job.JobId, job.State, null, "Snapshot", job.Attempt, job.WorkerId, job.PendingReason,
                job.ExitCode, job.Error, DateTimeOffset.UtcNow);
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
                yield return Item(stored.Event, cursor);
                if (jobId is not null && stored.Event.IsFinal)
                {
                    yield return End(stored.Event, cursor);
                    yield break;
                }
            }
            if (page.Count < 500)
                break;
        }

        // A resumed stream of a job that had already ended before the client's cursor: nothing is left but the end.
        if (job is not null && JobEvent.FinalStates.Contains(job.State))
        {
            yield return End(new JobEvent(job.JobId, job.State, null, "Snapshot", job.Attempt, job.WorkerId, null, job.ExitCode,
                job.Error, DateTimeOffset.UtcNow), cursor);
            yield break;
        }

        await foreach (var stored in live.Events.ReadAllAsync(cancellationToken))
        {
            if (!(stored.Cursor > cursor))
                continue; // already sent by the replay
            cursor = stored.Cursor;
            yield return Item(stored.Event, cursor);
            if (jobId is not null && stored.Event.IsFinal)
            {
                yield return End(stored.Event, cursor);
                yield break;
            }
        }
    }

    static SseItem<JobEvent> Item(JobEvent e, EventCursor cursor) => new(e, StateEvent) { EventId = cursor.ToString() };

    static SseItem<JobEvent> End(JobEvent e, EventCursor cursor) => new(e, EndEvent) { EventId = cursor.ToString() };
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Bus.Persistence.Jobs;
using Npgsql;

namespace Bus.Bench.EndToEnd;

/// <summary>One job's life as the saga recorded it.</summary>
public sealed record JobTimes(
    Guid JobId, string State, int Attempt, DateTimeOffset Submitted, DateTimeOffset? Allocated, DateTimeOffset? Started, DateTimeOffset? Finished);

/// <summary>
/// Submits jobs over the public HTTP API as fast as the gateway accepts them, then waits for the saga to record
/// them all finished. Timings come from the saga's own timestamps in PostgreSQL, not from polling the API. The jobs
/// of a run are read by the ids the gateway answered with (primary-key lookups), so however big the <c>jobs</c> table
/// grows, watching a run costs the database next to nothing. Given several gateways (a comma-separated
/// <see cref="EndToEndOptions.Gateway"/>), the i-th job or array goes to gateway i modulo their number.
/// </summary>
public sealed class JobDriver(EndToEndOptions options, NpgsqlDataSource database) : IDisposable
{
    readonly HttpClient[] _gateways = options.Gateway.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(url => CreateClient(url, options)).ToArray();
    readonly JobQueries _jobs = new(database);
    readonly ConcurrentDictionary<string, ConcurrentQueue<Guid>> _accepted = new();

    readonly ConcurrentDictionary<string, (int Arrays, double Seconds)> _arrays = new();

    /// <summary>
    /// Submits <paramref name="count"/> jobs whose request ids start with <paramref name="run"/>, one request each or,
    /// with <see cref="EndToEndOptions.Array"/>, in arrays; returns the refusals.
    /// </summary>
    public async Task<int> Submit(string run, int count)
    {
        if (options.Array > 0)
            return await SubmitArrays(run, count);
        var next = -1;
        var refused = 0;
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
                if (!await SubmitOne(run, i))
                    Interlocked.Increment(ref refused);
        }));
        return refused;
    }

    /// <summary>
    /// As <see cref="Submit"/>, but the i-th job is sent i / <paramref name="perSecond"/> seconds after the first, whether or
    /// not earlier ones were answered: a steady arrival rate, so latencies are not queueing behind a burst.
    /// </summary>
    public async Task<int> SubmitPaced(string run, int count, double perSecond)
    {
        var start = Stopwatch.GetTimestamp();
        var sends = new List<Task<bool>>(count);
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds(i / perSecond) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
                await Task.Delay(due);
            sends.Add(SubmitOne(run, i));
        }
        return (await Task.WhenAll(sends)).Count(accepted => !accepted);
    }

    /// <summary>The arrays of <see cref="EndToEndOptions.Array"/> jobs, up to <see cref="EndToEndOptions.Concurrency"/> in flight.</summary>
    async Task<int> SubmitArrays(string run, int count)
    {
        var arrays = (count + options.Array - 1) / options.Array;
        var next = -1;
        var refused = 0;
        var start = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(options.Concurrency, arrays)).Select(async _ =>
        {
            int a;
            while ((a = Interlocked.Increment(ref next)) < arrays)
            {
                var size = Math.Min(options.Array, count - a * options.Array);
                Interlocked.Add(ref refused, size - await SubmitArray(run, a * options.Array, size));
            }
        }));
        _arrays[run] = (arrays, Stopwatch.GetElapsedTime(start).TotalSeconds);
        return refused;
    }

    /// <summary>How many arrays the run was submitted as.</summary>
    public int Arrays(string run) => _arrays.TryGetValue(run, out var a) ? a.Arrays : 0;

    /// <summary>How long the run's arrays took to be answered, from the first sent to the last answered.</summary>
    public double SubmitSeconds(string run) => _arrays.TryGetValue(run, out var a) ? a.Seconds : 0;

    /// <summary>Returns how many of the array's jobs were accepted as new.</summary>
    async Task<int> SubmitArray(string run, int from, int size)
    {
        var response = await Gateway(from / options.Array).PostAsJsonAsync("/api/v1/jobs:batch", new { jobs = Enumerable.Range(from, size).Select(i => Body(run, i)) });
        if (response.StatusCode != HttpStatusCode.Accepted)
            return 0;
        var accepted = 0;
        foreach (var job in (await response.Content.ReadFromJsonAsync<JsonObject>())!["jobs"]!.AsArray())
            if ((string?)job!["status"] == "accepted")
            {
                _accepted.GetOrAdd(run, _ => []).Enqueue(job["jobId"]!.GetValue<Guid>());
                accepted++;
            }
        return accepted;
    }

    object Body(string run, int i) =>
        new { requestId = $"{run}-{i}", service = options.Service, command = options.Service == "shell" ? new[] { "/bin/true" } : null };

    async Task<bool> SubmitOne(string run, int i)
    {
        var response = await Gateway(i).PostAsJsonAsync("/api/v1/jobs", Body(run, i));
        if (response.StatusCode != HttpStatusCode.Accepted)
            return false;
        var jobId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["jobId"]!.GetValue<Guid>();
        _accepted.GetOrAdd(run, _ => []).Enqueue(jobId);
        return true;
    }

    Guid[] Accepted(string run) => _accepted.TryGetValue(run, out var ids) ? ids.ToArray() : [];

    /// <summary>Waits until every job of the run has finished, or the deadline passes.</summary>
    public async Task<bool> WaitFinished(string run, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        // Only the oldest jobs not yet seen finished are asked about, at most 1,000 once a second (jobs finish about
        // in the order they were accepted, so the window moves on as they do): asking about all 10,000 every 250 ms
        // cost PostgreSQL 4.5 ms of CPU a job, and every unfinished one each second still 1 ms, which the ledger then
        // charged to the system under test.
        var finished = new HashSet<Guid>();
        while (DateTime.UtcNow < deadline)
        {
            finished.UnionWith(await _jobs.Finished(Accepted(run).Where(id => !finished.Contains(id)).Take(1000).ToArray()));
            if (finished.Count >= count)
                return true;
            await Task.Delay(1000);
        }
        return false;
    }

    public async Task<IReadOnlyList<JobTimes>> Times(string run) =>
        (await _jobs.Progress(Accepted(run)))
            .Select(j => new JobTimes(j.JobId, j.State, j.Attempt, j.SubmittedAt, j.AllocatedAt, j.StartedAt, j.FinishedAt))
            .ToList();

    /// <summary>The first gateway, for the reads around a run.</summary>
    public HttpClient Http => _gateways[0];

    HttpClient Gateway(int i) => _gateways[i % _gateways.Length];

    static HttpClient CreateClient(string url, EndToEndOptions options)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency })
        {
            BaseAddress = new Uri(url),
            Timeout = TimeSpan.FromSeconds(60),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        return client;
    }

    public void Dispose()
    {
        foreach (var gateway in _gateways)
            gateway.Dispose();
    }
}

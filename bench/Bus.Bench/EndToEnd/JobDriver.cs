using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Npgsql;

namespace Bus.Bench.EndToEnd;

/// <summary>One job's life as the saga recorded it.</summary>
public sealed record JobTimes(string State, int Attempt, DateTimeOffset Submitted, DateTimeOffset? Allocated, DateTimeOffset? Started, DateTimeOffset? Finished);

/// <summary>
/// Submits jobs over the public HTTP API, as fast as the gateway accepts them or at a fixed rate, then waits for the saga to record
/// them all finished. Timings come from the saga's own timestamps in PostgreSQL, not from polling the API.
/// </summary>
public sealed class JobDriver(EndToEndOptions options, NpgsqlDataSource database) : IDisposable
{
    readonly HttpClient _http = CreateClient(options);

    /// <summary>Submits <paramref name="count"/> jobs whose request ids start with <paramref name="run"/>; returns the refusals.</summary>
    public async Task<int> Submit(string run, int count)
    {
        var next = -1;
        var refused = 0;
        var command = options.Service == "shell" ? new[] { "/bin/true" } : null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                // With a rate, job i goes at i / rate seconds (an open loop: a slow system does not slow the arrivals,
                // as long as fewer than Concurrency submissions are in flight).
                if (options.Rate > 0 && TimeSpan.FromSeconds(i / (double)options.Rate) - clock.Elapsed is { Ticks: > 0 } wait)
                    await Task.Delay(wait);
                var response = await _http.PostAsJsonAsync("/api/v1/jobs",
                    new { requestId = $"{run}-{i}", service = options.Service, command });
                if (response.StatusCode != HttpStatusCode.Accepted)
                    Interlocked.Increment(ref refused);
            }
        }));
        return refused;
    }

    /// <summary>Waits until every job of the run has finished, or the deadline passes.</summary>
    public async Task<bool> WaitFinished(string run, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            await using var command = database.CreateCommand(
                "SELECT count(*) FROM jobs WHERE request_id LIKE $1 AND current_state IN ('Completed', 'Failed', 'Cancelled', 'TimedOut')");
            command.Parameters.AddWithValue(run + "-%");
            if ((long)(await command.ExecuteScalarAsync())! >= count)
                return true;
            await Task.Delay(250);
        }
        return false;
    }

    public async Task<IReadOnlyList<JobTimes>> Times(string run)
    {
        await using var command = database.CreateCommand(
            "SELECT current_state, attempt, submitted_at, allocated_at, started_at, finished_at FROM jobs WHERE request_id LIKE $1");
        command.Parameters.AddWithValue(run + "-%");
        var times = new List<JobTimes>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            times.Add(new JobTimes(reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2),
                Optional(reader, 3), Optional(reader, 4), Optional(reader, 5)));
        return times;
    }

    public HttpClient Http => _http;

    static DateTimeOffset? Optional(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateTimeOffset>(i);

    static HttpClient CreateClient(EndToEndOptions options)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency })
        {
            BaseAddress = new Uri(options.Gateway),
            Timeout = TimeSpan.FromSeconds(60),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        return client;
    }

    public void Dispose() => _http.Dispose();
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Bus.Bench.Chaos;

/// <summary>
/// A round's jobs, sent at a steady rate over the public API. Each job is a shell command that appends a line to the
/// round's executions file when it starts and another when it ends, so what ran (and how often) is read from the file,
/// not from what the system says. A client whose POST fails retries it with the same requestId and body, as the API
/// invites (the requestId is the idempotency key), until it is accepted or the give-up time passes; every failed answer
/// is counted by its status code.
/// </summary>
public sealed class JobStream(ChaosOptions options, HttpClient http)
{
    static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(150);

    readonly ConcurrentDictionary<string, Guid> _accepted = new();
    readonly ConcurrentDictionary<string, int> _errors = new();
    int _abandoned;

    /// <summary>requestId to jobId of every job the gateway accepted.</summary>
    public IReadOnlyDictionary<string, Guid> Accepted => _accepted;

    /// <summary>Failed answers by status code (or <c>conn</c> / <c>timeout</c> when there was no answer).</summary>
    public IReadOnlyDictionary<string, int> Errors => _errors;

    /// <summary>Jobs never accepted: their client gave up.</summary>
    public int Abandoned => _abandoned;

    /// <summary>The cpus job <paramref name="i"/> asks for: 1 and 2 in turn, so placement has to fit sizes.</summary>
    public static int Cpus(int i) => 1 + i % 2;

    public static HttpClient CreateClient(ChaosOptions options)
    {
        var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 })
        {
            BaseAddress = new Uri(options.Gateway),
            Timeout = TimeSpan.FromSeconds(10),
        };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        return client;
    }

    /// <summary>
    /// Sends the jobs, job i at i / rate seconds, holding the last two thirds until <paramref name="faultInEffect"/>
    /// (then at the same rate from there); returns once every client has been accepted or given up.
    /// </summary>
    public async Task Run(string round, string executionsFile, Task faultInEffect)
    {
        var start = Stopwatch.GetTimestamp();
        var clients = new List<Task>(options.Jobs);
        var held = options.Jobs / 3;
        for (var i = 0; i < options.Jobs; i++)
        {
            if (i == held && !faultInEffect.IsCompleted)
            {
                await faultInEffect;
                start = Stopwatch.GetTimestamp() - Stopwatch.Frequency * held / options.Rate;
            }
            var due = TimeSpan.FromSeconds((double)i / options.Rate) - Stopwatch.GetElapsedTime(start);
            if (due > TimeSpan.Zero)
                await Task.Delay(due);
            clients.Add(Client($"{round}-{i}", Cpus(i), executionsFile));
        }
        await Task.WhenAll(clients);
    }

    async Task Client(string requestId, int cpus, string executionsFile)
    {
        // $0 is the requestId and $1 the cpus; $PPID is the worker that started the shell. One short append per line.
        var script = $"echo \"start $0 $1 $PPID $(date +%s%N)\" >>'{executionsFile}'; sleep {(options.JobMilliseconds / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)}; " +
                     $"echo \"end $0 $1 $PPID $(date +%s%N)\" >>'{executionsFile}'";
        var body = new
        {
            requestId,
            service = "shell",
            command = new[] { "/bin/sh", "-c", script, requestId, cpus.ToString() },
            resources = new { cpus },
            timeoutSeconds = 120,
        };
        var giveUp = Stopwatch.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            string failure;
            try
            {
                using var response = await http.PostAsJsonAsync("/api/v1/jobs", body);
                if (response.IsSuccessStatusCode)
                {
                    var jobId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["jobId"]!.GetValue<Guid>();
                    _accepted[requestId] = jobId;
                    return;
                }
                failure = ((int)response.StatusCode).ToString();
            }
            catch (TaskCanceledException)
            {
                failure = "timeout";
            }
            catch (HttpRequestException)
            {
                failure = "conn";
            }
            _errors.AddOrUpdate(failure, 1, (_, n) => n + 1);
            if (failure is "400" or "409" || Stopwatch.GetElapsedTime(giveUp) > GiveUpAfter)
            {
                Interlocked.Increment(ref _abandoned);
                return;
            }
            await Task.Delay(backoff);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(4).Ticks));
        }
    }
}

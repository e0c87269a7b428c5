using System.Diagnostics;
using Bus.Contracts;
using Npgsql;

namespace Bus.Bench.Chaos;

/// <summary>
/// One round: wait until the system is whole, stream the jobs, inject the fault a third of the way in (the other two
/// thirds are sent once it is in effect), wait until every
/// accepted job is terminal or the deadline passes, then count from the executions file and PostgreSQL.
/// </summary>
public sealed class ChaosRound(ChaosOptions options, SystemControl system, SystemProbe probe, HttpClient api)
{
    static readonly TimeSpan HealthyWithin = TimeSpan.FromMinutes(2);

    public async Task<RoundResult> Run(string name, string stamp)
    {
        var executionsFile = Path.Combine(options.RunDirectory, $"executions-{name}.log");
        if (Faults.Unavailable(name) is { } why)
            return Skipped(name, executionsFile, why);
        await WaitWhole();
        system.RecordPids();
        File.WriteAllText(executionsFile, "");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(executionsFile, (UnixFileMode)0b110_110_110); // a job run as another user appends too

        var capacity = await Retry(probe.RegisteredCpus);
        var deadLetteredBefore = await probe.ErrorQueueMessages();
        var stream = new JobStream(options, api);
        var sampler = new LiveCapacitySampler(api);
        using var stopSampling = new CancellationTokenSource();
        var sampling = sampler.Run(stopSampling.Token);

        system.Note($"round {name}: {options.Jobs} jobs at {options.Rate}/s");
        var start = DateTimeOffset.UtcNow;
        var inEffect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var submitting = stream.Run($"chaos-{stamp}-{name}", executionsFile, inEffect.Task);
        await Task.Delay(TimeSpan.FromSeconds(options.Jobs / (double)options.Rate / 3));
        system.Note($"round {name}: injecting the fault");
        await Faults.Inject(name, system, inEffect);
        await submitting;
        system.Note($"round {name}: {stream.Accepted.Count} accepted; waiting up to {options.Deadline} s for them to end");

        var ids = stream.Accepted.Values.ToArray();
        var deadline = Stopwatch.StartNew();
        IReadOnlyDictionary<Guid, (string State, DateTimeOffset? Finished)> jobs = new Dictionary<Guid, (string, DateTimeOffset?)>();
        while (true)
        {
            try { jobs = await probe.Jobs(ids); }
            catch (NpgsqlException) { } // PostgreSQL may still be coming back
            if (ids.All(id => jobs.TryGetValue(id, out var job) && SystemProbe.IsTerminal(job.State)) ||
                deadline.Elapsed > TimeSpan.FromSeconds(options.Deadline))
                break;
            await Task.Delay(500);
        }
        var end = DateTimeOffset.UtcNow;
        await stopSampling.CancelAsync();
        await sampling;

        var log = ExecutionLog.Read(executionsFile);
        var allocations = await Retry(() => probe.Allocations(start, end));
        var terminal = jobs.Values.Where(j => SystemProbe.IsTerminal(j.State)).ToList();
        var completedIds = stream.Accepted.Where(a => jobs.TryGetValue(a.Value, out var j) && j.State == JobStates.Completed).Select(a => a.Key);
        var lastEnded = terminal.Count == ids.Length && terminal.Count > 0 ? terminal.Max(j => j.Finished ?? end) : (DateTimeOffset?)null;
        var deadLetteredAfter = await probe.ErrorQueueMessages();
        for (var attempt = 0; deadLetteredAfter is null && attempt < 30; attempt++)
        {
            await Task.Delay(1000); // a broker just started again may not list its counts yet
            deadLetteredAfter = await probe.ErrorQueueMessages();
        }

        return new RoundResult(
            name,
            Submitted: ids.Length,
            Completed: terminal.Count(j => j.State == JobStates.Completed),
            Failed: terminal.Count(j => j.State != JobStates.Completed),
            Lost: ids.Length - terminal.Count,
            ExecutedTwice: log.EndedTwice,
            StartedTwice: log.StartedTwice,
            CompletedWithoutRun: completedIds.Count(id => !log.Ended.Contains(id)),
            OversoldAllocations: Oversell.FromAllocations(allocations, capacity, start, end),
            OversoldExecutions: Oversell.FromExecutions(log.Executions, system.ServiceOf, capacity, start, end),
            OversoldLive: sampler.Violations,
            LiveSamples: sampler.Samples,
            DeadLettered: deadLetteredBefore is { } before && deadLetteredAfter is { } after ? after - before : null,
            ClientErrors: stream.Errors,
            Abandoned: stream.Abandoned,
            LastJobEnded: lastEnded is { } last ? (last - start).TotalSeconds : null,
            ExecutionsFile: executionsFile,
            Unfinished: ids.Where(id => !jobs.TryGetValue(id, out var job) || !SystemProbe.IsTerminal(job.State)).ToArray());
    }

    /// <summary>
    /// Before each round: the API ready, every service of ./bus up running and both workers listed, so one round's
    /// damage is not blamed on the next. A service that died is started again; the wait is bounded.
    /// </summary>
    async Task WaitWhole()
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < HealthyWithin)
        {
            var dead = SystemControl.Services.Where(s => system.LivePid(s) is null).ToArray();
            if (dead.Length > 0)
            {
                system.Note($"not running: {string.Join(", ", dead)}; starting them");
                await system.Start(dead);
            }
            else if (await probe.Ready() && await Workers() >= 2)
                return;
            await Task.Delay(1000);
        }
        system.Note($"the system was not whole after {HealthyWithin.TotalSeconds:F0} s; running the round anyway");
    }

    async Task<int> Workers()
    {
        try { return (await probe.WorkerCpus()).Count; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return 0; }
    }

    static async Task<T> Retry<T>(Func<Task<T>> read)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await read(); }
            catch (Exception e) when (attempt < 60 && e is NpgsqlException or HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(1000);
            }
        }
    }

    static RoundResult Skipped(string name, string file, string why) =>
        new(name, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null, new Dictionary<string, int>(), 0, null, file, [], why);
}

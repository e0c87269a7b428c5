namespace Bus.Bench.Chaos;

/// <summary>
/// One run of a job's command, from its start line to its end line (null when it never ended). <see cref="ParentPid"/> is
/// the process that started it: the worker service that ran it.
/// </summary>
public sealed record Execution(string RequestId, int Cpus, int ParentPid, DateTimeOffset Started, DateTimeOffset? Ended);

/// <summary>
/// What the jobs themselves wrote: a <c>start</c> and an <c>end</c> line per run, with the requestId, the cpus, the
/// parent process id and the time in nanoseconds. A run that ended appears once per end line, so a job whose command ran to its end twice is
/// counted whatever the system recorded about it. An end belongs to the latest start before it: a run cut short by a
/// kill never writes its end, and the run after it does.
/// </summary>
public sealed class ExecutionLog
{
    public IReadOnlyList<Execution> Executions { get; }

    ExecutionLog(IReadOnlyList<Execution> executions) => Executions = executions;

    public static ExecutionLog Read(string file)
    {
        var open = new Dictionary<string, Stack<(int Cpus, int ParentPid, DateTimeOffset At)>>();
        var executions = new List<Execution>();
        foreach (var line in File.Exists(file) ? File.ReadLines(file) : [])
        {
            var parts = line.Split(' ');
            if (parts.Length != 5 || !int.TryParse(parts[2], out var cpus) || !int.TryParse(parts[3], out var parent) ||
                !long.TryParse(parts[4], out var nanoseconds))
                continue; // a line torn by a kill; its job's other lines still count
            var at = DateTimeOffset.UnixEpoch.AddTicks(nanoseconds / 100);
            var runs = open.TryGetValue(parts[1], out var stack) ? stack : open[parts[1]] = new();
            if (parts[0] == "start")
                runs.Push((cpus, parent, at));
            else if (parts[0] == "end")
                executions.Add(runs.TryPop(out var run)
                    ? new Execution(parts[1], cpus, run.ParentPid, run.At, at)
                    : new Execution(parts[1], cpus, parent, at, at));
        }
        foreach (var (requestId, runs) in open)
            executions.AddRange(runs.Select(r => new Execution(requestId, r.Cpus, r.ParentPid, r.At, null)));
        return new ExecutionLog(executions);
    }

    /// <summary>Jobs whose command ran to its end more than once.</summary>
    public int EndedTwice => Executions.Where(e => e.Ended is not null).GroupBy(e => e.RequestId).Count(g => g.Count() > 1);

    /// <summary>Jobs whose command started more than once (a run cut short and run again is allowed; two ends are not).</summary>
    public int StartedTwice => Executions.GroupBy(e => e.RequestId).Count(g => g.Count() > 1);

    /// <summary>The request ids whose command ran to its end at least once.</summary>
    public IReadOnlySet<string> Ended => Executions.Where(e => e.Ended is not null).Select(e => e.RequestId).ToHashSet();
}

namespace Bus.Contracts;

/// <summary>
/// The states a job can be in, by the names the API returns, <c>jobs.current_state</c> stores and the scheduler's
/// state machine gives them (its state properties carry the same names; a unit test fails if the two drift apart).
/// Every service and tool compares against these constants, never against a literal, so renaming a state is one
/// edit here plus the machine's property.
/// </summary>
public static class JobStates
{
    /// <summary>Waiting for a worker: not placed yet, or placed again after an attempt ended early.</summary>
    public const string Pending = "Pending";
    /// <summary>A worker's capacity is reserved for the current attempt; the worker has not reported it started.</summary>
    public const string Allocated = "Allocated";
    /// <summary>The worker reported the current attempt started.</summary>
    public const string Running = "Running";
    /// <summary>Final: an attempt exited with code 0.</summary>
    public const string Completed = "Completed";
    /// <summary>Final: every attempt allowed failed, or the job could never run.</summary>
    public const string Failed = "Failed";
    /// <summary>Final: a user cancelled the job.</summary>
    public const string Cancelled = "Cancelled";
    /// <summary>Final: an attempt ran past the job's timeout.</summary>
    public const string TimedOut = "TimedOut";

    /// <summary>Every state, in lifecycle order.</summary>
    public static IReadOnlyList<string> All { get; } = [Pending, Allocated, Running, Completed, Failed, Cancelled, TimedOut];

    /// <summary>The states a job holds a worker's capacity in.</summary>
    public static IReadOnlyList<string> OnWorker { get; } = [Allocated, Running];

    /// <summary>The states a job is not finished in: what a tenant's quota of active jobs counts.</summary>
    public static IReadOnlyList<string> Active { get; } = [Pending, Allocated, Running];

    /// <summary>The states nothing more happens to a job in.</summary>
    public static IReadOnlyList<string> Final { get; } = [Completed, Failed, Cancelled, TimedOut];

    /// <summary>Whether <paramref name="state"/> is one of <see cref="Final"/>.</summary>
    public static bool IsFinal(string state) => Final.Contains(state);
}

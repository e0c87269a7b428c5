using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>
/// How this worker contains the processes of its attempts (one of <see cref="EnforcementModes"/>), chosen once at
/// start-up by <see cref="ContainmentFactory"/>.
/// </summary>
public interface IContainment
{
    /// <summary>What the worker registers as its enforcement: <c>cgroup-v2</c>, <c>cgroup-v1</c> or <c>process-group</c>.</summary>
    string Mode { get; }

    /// <summary>A fresh container for one attempt, limited to what it reserved.</summary>
    IAttemptContainer Create(string name, ResourceVector resources);

    /// <summary>
    /// Kills every process left in this worker's containers by an earlier process of it (one that died without
    /// cleaning up) and removes the containers. Returns how many still held processes.
    /// </summary>
    Task<int> KillLeftovers(CancellationToken cancellationToken);

    /// <summary>
    /// At the worker's stop: removes the containers it made ahead for attempts to come, and its own folder once no
    /// attempt is left in it. Cgroups left behind would stay in the kernel for good, and every CPU quota written on
    /// the machine walks all of them.
    /// </summary>
    Task RemoveUnused();
}

/// <summary>One attempt's container: the launcher joins it before it execs the job, so every descendant is in it.</summary>
public interface IAttemptContainer : IAsyncDisposable
{
    /// <summary>Files the launcher writes its own pid into before it execs the job; empty when there is nothing to join.</summary>
    IReadOnlyList<string> JoinFiles { get; }

    /// <summary>
    /// Kills every process in the container and returns once none is left. <paramref name="leaderPid"/> is the
    /// process the worker started (the leader of its own session and process group).
    /// </summary>
    Task KillAll(int leaderPid, CancellationToken cancellationToken);

    /// <summary>Whether the kernel killed a process of the attempt for going over its memory limit.</summary>
    bool MemoryLimitHit { get; }
}

/// <summary>
/// Calls that block in the kernel for a long while, run on threads of their own: making and removing a v1 cgroup waits
/// for the kernel (hundreds of milliseconds, more under load). On the thread pool, which starts with one thread per
/// core, a few such calls hold every thread, and whatever is queued behind them waits until the pool grows (about a
/// thread per half second): the end of an attempt and its journal write among them, so a worker killed in that second
/// had not journaled a job that had already ended, and the job ran again.
/// <para>
/// The threads are kept: a thread started for each call (ten a shell job, five cgroups made and five removed) cost a
/// worker more CPU in starting and ending threads than in the calls. A call that finds every thread busy starts
/// another, up to <see cref="MaxThreads"/>, so slow calls overlap as they did; past that, calls wait their turn.
/// </para>
/// </summary>
internal static class KernelCalls
{
    const int MaxThreads = 16;

    // A queue under a monitor rather than a BlockingCollection: its SemaphoreSlim spins (sched_yield) on every take
    // before it blocks, and with a dozen idle threads taking after each call that spinning was most of these
    // threads' CPU (perf: about a seventh of a busy shell worker's samples). Monitor.Wait blocks at once.
    static readonly Queue<(Action Call, TaskCompletionSource Done)> Pending = new();
    static readonly object Gate = new();
    static int _threads;
    static int _waiting; // threads in Monitor.Wait that no call has woken yet

    public static Task Run(Action call)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            if (_waiting == 0 && _threads < MaxThreads)
            {
                // Started before the call is queued or the thread counted: a start that throws leaves neither behind.
                new Thread(Serve) { IsBackground = true, Name = "kernel calls" }.Start();
                _threads++;
            }
            Pending.Enqueue((call, done));
            if (_waiting > 0)
            {
                _waiting--;
                Monitor.Pulse(Gate);
            }
            // Otherwise the new thread takes it once this lock is let go, or every thread is busy and the first to
            // finish does.
        }
        return done.Task;
    }

    static void Serve()
    {
        while (true)
        {
            (Action Call, TaskCompletionSource Done) next;
            lock (Gate)
            {
                while (!Pending.TryDequeue(out next))
                {
                    _waiting++;
                    Monitor.Wait(Gate);
                }
            }
            try
            {
                next.Call();
                next.Done.SetResult();
            }
            catch (Exception e)
            {
                next.Done.SetException(e);
            }
        }
    }
}

/// <summary>Shared by the containers: polling until a condition holds, without a fixed wait.</summary>
internal static class Poll
{
    /// <summary>Checks every 10 ms, backing off to 200 ms; true once it holds, false at the deadline.</summary>
    public static async Task<bool> Until(Func<bool> condition, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + deadline;
        var wait = 10;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
                return false;
            await Task.Delay(wait, cancellationToken);
            wait = Math.Min(wait * 2, 200);
        }
        return true;
    }
}

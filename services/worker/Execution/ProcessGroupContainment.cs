using Bus.Contracts;

namespace Bus.Worker.Execution;

/// <summary>
/// The fallback where no cgroup is writable: each attempt runs in a new session (the launcher goes through
/// <c>setsid</c>), and stopping it kills that process group. No resource limits; a descendant that starts a session
/// of its own escapes the kill. A restarted worker kills leftover groups by the pids recorded for its attempts.
/// </summary>
public sealed class ProcessGroupContainment : IContainment
{
    public string Mode => EnforcementModes.ProcessGroup;

    public IAttemptContainer Create(string name, ResourceVector resources) => new Group();

    public Task<int> KillLeftovers(CancellationToken cancellationToken) => Task.FromResult(0);

    public Task RemoveUnused() => Task.CompletedTask;

    sealed class Group : IAttemptContainer
    {
        public IReadOnlyList<string> JoinFiles => [];

        public bool MemoryLimitHit => false;

        public async Task KillAll(int leaderPid, CancellationToken cancellationToken)
        {
            // Again while anything is left: a process forking as the signal lands may leave a new child behind.
            await Poll.Until(() => !Native.Signal(-leaderPid, Native.SigKill) || !Native.GroupAlive(leaderPid),
                TimeSpan.FromSeconds(30), cancellationToken);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

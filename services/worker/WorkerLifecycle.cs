using Bus.Capacity.Workers;

namespace Bus.Worker;

/// <summary>
/// Whether this worker still takes jobs. Draining starts on an admin's drain or on SIGTERM and never ends: the
/// registration says <c>draining</c> (so reservations are refused), a RunJob that still arrives is handed back,
/// and once idle the worker unregisters.
/// </summary>
public sealed class WorkerLifecycle
{
    readonly TaskCompletionSource _draining = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDraining => _draining.Task.IsCompleted;

    /// <summary>Completes when draining starts, so the registrar can publish the new status at once.</summary>
    public Task DrainingStarted => _draining.Task;

    public string Status => IsDraining ? WorkerStatus.Draining : WorkerStatus.Ready;

    public void StartDraining() => _draining.TrySetResult();
}

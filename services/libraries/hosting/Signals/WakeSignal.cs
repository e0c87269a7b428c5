namespace Bus.Hosting.Signals;

/// <summary>
/// Wakes one background loop: any number of <see cref="Set"/> calls before the loop waits again fold into one wake-up,
/// so the loop does its work once for all of them. Set never blocks and never throws, so it can be called on any path.
/// </summary>
public sealed class WakeSignal
{
    readonly SemaphoreSlim _set = new(0, 1);

    public void Set()
    {
        if (_set.CurrentCount == 0)
        {
            try { _set.Release(); }
            catch (SemaphoreFullException) { } // set by another caller meanwhile: one wake-up serves both
        }
    }

    /// <summary>Waits until set, and takes the signal.</summary>
    public Task Wait(CancellationToken cancellationToken) => _set.WaitAsync(cancellationToken);

    /// <summary>Waits until set or until the timeout; true when set (and the signal taken).</summary>
    public Task<bool> Wait(TimeSpan timeout, CancellationToken cancellationToken) => _set.WaitAsync(timeout, cancellationToken);
}

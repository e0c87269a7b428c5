using Bus.Contracts;

namespace Bus.Scheduler.Observability;

/// <summary>
/// Turns utilization readings into threshold crossings, per scope (a worker id or <c>"cluster"</c>): one when a
/// scope reaches the threshold, one when it falls back below <c>threshold - hysteresis</c>. Readings that stay on the
/// same side say nothing, so a busy worker alerts once, not on every allocation; the hysteresis keeps a worker that
/// runs full, where each job's end drops it a little below the threshold and the next placement fills it again, from
/// alerting on every job. A scope never seen counts as below. Not thread-safe: one loop owns it.
/// </summary>
public sealed class ThresholdCrossings(double threshold, double hysteresis = 0)
{
    readonly HashSet<string> _above = [];

    public double Threshold => threshold;

    /// <summary>The crossing this reading makes, or null when the scope stays on the side it was on.</summary>
    public UtilizationThresholdCrossed? Observe(string scope, double utilization, DateTimeOffset at)
    {
        var above = _above.Contains(scope) ? utilization >= threshold - hysteresis : utilization >= threshold;
        var changed = above ? _above.Add(scope) : _above.Remove(scope);
        return changed ? new UtilizationThresholdCrossed(scope, utilization, threshold, above, at) : null;
    }

    /// <summary>Drops a scope that is gone (a worker whose registration expired), so the set does not grow.</summary>
    public void Forget(string scope) => _above.Remove(scope);
}

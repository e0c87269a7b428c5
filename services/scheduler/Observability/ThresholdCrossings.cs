using Bus.Contracts;

namespace Bus.Scheduler.Observability;

/// <summary>
/// Turns utilization readings into threshold crossings, per scope (a worker id or <c>"cluster"</c>): one when a
/// scope reaches the threshold, one when it has stayed below <c>threshold - hysteresis</c> for <c>clearAfter</c>.
/// Readings that stay on the same side say nothing, so a busy worker alerts once, not on every allocation. The
/// hysteresis keeps a worker that runs full, where each job's end drops it a little below the threshold and the next
/// placement fills it again, from alerting on every job; the wait keeps one whose jobs are so short that it empties
/// and fills many times a second from alerting on every burst. A scope never seen counts as below. Not thread-safe:
/// one loop owns it.
/// </summary>
public sealed class ThresholdCrossings(double threshold, double hysteresis = 0, TimeSpan clearAfter = default)
{
    readonly HashSet<string> _above = [];
    // Scopes above whose readings have been under the clear level since then, continuously.
    readonly Dictionary<string, DateTimeOffset> _belowSince = [];

    public double Threshold => threshold;

    /// <summary>The crossing this reading makes, or null when the scope stays on the side it was on.</summary>
    public UtilizationThresholdCrossed? Observe(string scope, double utilization, DateTimeOffset at)
    {
        if (!_above.Contains(scope))
            return utilization >= threshold && _above.Add(scope) ? new UtilizationThresholdCrossed(scope, utilization, threshold, true, at) : null;
        if (utilization >= threshold - hysteresis)
        {
            _belowSince.Remove(scope);
            return null;
        }
        if (!_belowSince.TryGetValue(scope, out var since))
            _belowSince[scope] = since = at;
        if (at - since < clearAfter)
            return null;
        Forget(scope);
        return new UtilizationThresholdCrossed(scope, utilization, threshold, false, at);
    }

    /// <summary>When the earliest scope waiting to clear has waited long enough to be read again; null when none waits.</summary>
    public DateTimeOffset? NextClearDue => _belowSince.Count == 0 ? null : _belowSince.Values.Min() + clearAfter;

    /// <summary>The scopes waiting to clear whose wait is over at <paramref name="now"/>: read them again to clear them.</summary>
    public IReadOnlyList<string> ClearsDue(DateTimeOffset now) =>
        _belowSince.Where(s => s.Value + clearAfter <= now).Select(s => s.Key).ToList();

    /// <summary>Drops a scope that is gone (a worker whose registration expired), so the sets do not grow.</summary>
    public void Forget(string scope)
    {
        _above.Remove(scope);
        _belowSince.Remove(scope);
    }
}

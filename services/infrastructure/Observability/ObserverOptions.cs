namespace Bus.Infrastructure.Observability;

/// <summary>What the allocation observers alert on (R18). Bound from the <c>Observers</c> section.</summary>
public sealed class ObserverOptions
{
    public const string Section = "Observers";

    /// <summary>
    /// The CPU utilization (allocated over offered CPUs, above 0 and at most 1) at or above which a worker, or the
    /// cluster as a whole, raises an alert: a warning log and a <c>UtilizationThresholdCrossed</c> event. It alerts
    /// once when utilization reaches the threshold and once when it falls back below, never on every allocation in
    /// between. Default 0.9.
    /// </summary>
    public double UtilizationAlertThreshold { get; set; } = 0.9;

    /// <summary>
    /// The least time between two reads of cluster-wide utilization, which sums over every live worker. The cluster
    /// is read only after something changed, and at most this often. Default 5 s.
    /// </summary>
    public TimeSpan ClusterCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}

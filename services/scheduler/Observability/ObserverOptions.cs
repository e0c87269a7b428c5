namespace Bus.Scheduler.Observability;

/// <summary>What the allocation observers alert on. Bound from the <c>Observers</c> section.</summary>
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
    /// How far below the threshold utilization must fall before the alert is cleared (and may be raised again). A
    /// worker that runs full drops a job's share below the threshold each time a job ends, and is filled again by the
    /// next placement; without a margin it would alert on every job. Default 0.2 (with the default threshold, cleared
    /// below 70%). 0 clears as soon as utilization is under the threshold.
    /// </summary>
    public double UtilizationAlertHysteresis { get; set; } = 0.2;

    /// <summary>
    /// How long utilization must stay below the threshold minus the hysteresis before the alert is cleared. Jobs of
    /// a few milliseconds empty and refill a worker many times a second, past any margin: without this wait one
    /// benchmark run logged 1,400 pairs of alerts and clearings. Default 10 s; 0 clears at the first reading below.
    /// </summary>
    public TimeSpan UtilizationAlertClearAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The least time between two reads of cluster-wide utilization, which sums over every live worker. The cluster
    /// is read only after something changed, and at most this often. Default 5 s.
    /// </summary>
    public TimeSpan ClusterCheckInterval { get; set; } = TimeSpan.FromSeconds(5);
}
